import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { createPaymentActivities } from '../../activities/payments';
import * as ledger from '../../db/ledger';
import { paymentEvent, type CreditPurchaseState } from '../../workflows/credit-purchase';
import { purchaseRefundWorkflowId } from '../../workflows/purchase-refund';
import { randomAddress } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';
import { eventually } from '../harness/eventually';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The credit-purchase workflow with its production durations, in virtual time: the 24-hour payment
 * deadline and the 120-day refund window pass in milliseconds. Purchases are made through the real
 * API; the real worker runs the real activities on PostgreSQL and stripe-mock. Only Stripe's answer at
 * the deadline is scripted where a test needs one that stripe-mock cannot give (it always reports an
 * unpaid PaymentIntent).
 */
describe('credit purchase in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  let coop: string;
  const stripe = new Stripe('sk_test_unused');
  /** Scripted answers of settleUnpaidPayment, by purchase; when none is left the real activity answers. */
  const settleAnswers = new Map<string, Array<'succeeded' | 'processing'>>();
  /** Every call of settleUnpaidPayment, with the (virtual) time the workflow scheduled it. */
  const settleCalls: Array<{ purchaseId: string; scheduledAt: number }> = [];
  /** Stripe's lasting refusals, injected where stripe-mock gives none: the real activity code runs on a Stripe client that throws them. */
  const REFUSED_CENTS = 7_770n; // 7.77 CLOUD
  const refusingStripe = (err: Error) => {
    const fail = async () => {
      throw err;
    };
    return { paymentIntents: { create: fail, retrieve: fail, cancel: fail } } as unknown as Stripe;
  };
  /** Refusals Stripe answers settleUnpaidPayment with, in turn, by purchase; when none is left the scripted or real answer comes. */
  const refusedAtDeadline = new Map<string, Error[]>();
  // The Stripe calls under test touch no database.
  const withStripe = (stripe: Stripe) => createPaymentActivities(undefined as unknown as Pool, stripe);

  beforeAll(async () => {
    stack = await startTimeSkippingStack({
      api: true,
      activityOverrides: (real) => ({
        async createPaymentIntent(input) {
          if (input.amountCents !== REFUSED_CENTS) return real.createPaymentIntent(input);
          return withStripe(refusingStripe(new Stripe.errors.StripeInvalidRequestError({ statusCode: 400, code: 'parameter_invalid_integer', message: 'Invalid integer' }))).createPaymentIntent(input);
        },
        async settleUnpaidPayment(input) {
          settleCalls.push({ purchaseId: input.purchaseId, scheduledAt: Context.current().info.currentAttemptScheduledTimestampMs });
          const refusal = refusedAtDeadline.get(input.purchaseId)?.shift();
          if (refusal) return withStripe(refusingStripe(refusal)).settleUnpaidPayment(input);
          return settleAnswers.get(input.purchaseId)?.shift() ?? real.settleUnpaidPayment(input);
        },
      }),
    });
    api = stack.api!;
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `vbuy-${randomUUID().slice(0, 8)}`, name: 'Buyers' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function newMember(): Promise<{ id: string; token: string }> {
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const res = await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } });
    return { id: res.body.id, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId: coop }) };
  }

  async function buy(member: { token: string }, amount: string) {
    const res = await api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'awaiting_payment', paymentIntentId: expect.stringMatching(/^pi_/) });
    return res.body as { id: string; paymentIntentId: string; workflowId: string };
  }

  function webhook(type: string, object: Record<string, unknown>) {
    const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type, data: { object } });
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: stack.config.stripe.webhookSecret });
    return api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': header } });
  }
  const succeeded = (pi: string) => webhook('payment_intent.succeeded', { id: pi, object: 'payment_intent' });
  const refunded = (pi: string, cents: number) => webhook('charge.refunded', { id: `ch_${randomUUID().slice(0, 8)}`, object: 'charge', payment_intent: pi, amount_refunded: cents });

  type PurchaseView = { status: string; history: Array<{ step: string; status: string; detail: Record<string, unknown> }>; mintTransactionId: string | null; refundedUsd: string };
  async function purchaseOf(member: { token: string }, purchaseId: string): Promise<PurchaseView> {
    return (await api.request('GET', `/v1/credit-purchases/${purchaseId}`, { token: member.token })).body;
  }
  async function balanceOf(member: { id: string; token: string }) {
    return (await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token })).body;
  }
  async function count(type: 'mint' | 'refund_clawback', paymentIntentId: string): Promise<number> {
    const key = type === 'mint' ? 'sourceId' : 'paymentSourceId';
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE type = $1 AND metadata->>'${key}' = $2`, [type, paymentIntentId]);
    return rows[0].n;
  }
  const callsFor = (purchaseId: string) => settleCalls.filter((c) => c.purchaseId === purchaseId).map((c) => c.scheduledAt);
  const closeTimeOf = async (workflowId: string) => (await stack.client.workflow.getHandle(workflowId).describe()).closeTime!.getTime();
  async function expectCleanLedger() {
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  }

  it('expires an unpaid purchase at the 24-hour deadline, after asking Stripe, and mints nothing', async () => {
    const member = await newMember();
    const startedAt = await stack.now();
    const purchase = await buy(member, '2');

    // A minute before the deadline: its timer has not fired, nothing has changed.
    await stack.sleepUntil(startedAt + DAY - MINUTE);
    expect(await stack.firedTimers(purchase.workflowId)).toBe(0);
    expect((await purchaseOf(member, purchase.id)).status).toBe('awaiting_payment');
    expect(callsFor(purchase.id)).toEqual([]);

    const result = await stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(purchase.workflowId).result();
    expect(result).toMatchObject({ status: 'expired', paymentIntentId: purchase.paymentIntentId });
    expect(result.mintTransactionId).toBeUndefined();
    // Stripe was asked once, at the deadline (stripe-mock answers "unpaid", so the payment was cancelled).
    const [askedAt, ...more] = callsFor(purchase.id);
    expect(more).toEqual([]);
    expect(askedAt).toBeGreaterThanOrEqual(startedAt + DAY);
    const description = await stack.client.workflow.getHandle(purchase.workflowId).describe();
    expect(description.closeTime!.getTime()).toBeGreaterThanOrEqual(startedAt + DAY);
    // The workflow's search attributes, as an operator would find it (the harness registers them on the test server).
    expect(description.searchAttributes).toMatchObject({ CooperativeId: [coop], MemberId: [member.id], BusinessStatus: ['expired'] });

    const seen = await purchaseOf(member, purchase.id);
    expect(seen).toMatchObject({ status: 'expired', mintTransactionId: null });
    expect(seen.history.map((h) => h.step)).toEqual(['payment-created', 'expired']);
    // A success webhook after the deadline finds the purchase closed: acknowledged, nothing minted.
    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    expect(await count('mint', purchase.paymentIntentId)).toBe(0);
    expect(await balanceOf(member)).toMatchObject({ available: '0', wallet: '0' });
    await expectCleanLedger();
  });

  it('mints once when Stripe reports at the deadline that the payment succeeded though its webhook never came', async () => {
    const member = await newMember();
    const startedAt = await stack.now();
    const purchase = await buy(member, '3');
    settleAnswers.set(purchase.id, ['succeeded']);

    // The deadline's timer, as the workflow started it once the payment was created.
    const deadline = (await eventually(() => stack.pendingTimer(purchase.workflowId), (t) => t !== undefined))!;
    expect(deadline).toBeGreaterThanOrEqual(startedAt + DAY);
    await stack.sleepUntil(deadline - MINUTE);
    expect(await stack.firedTimers(purchase.workflowId)).toBe(0);
    expect((await purchaseOf(member, purchase.id)).status).toBe('awaiting_payment');
    expect(await count('mint', purchase.paymentIntentId)).toBe(0);

    await stack.sleepUntil(deadline + 1000);
    expect(await stack.firedTimers(purchase.workflowId)).toBe(1);
    const minted = await eventually(() => purchaseOf(member, purchase.id), (p) => p.status === 'minted');
    expect(minted.history.map((h) => h.step)).toEqual(['payment-created', 'minted']);
    expect(minted.history[1]!.detail).toEqual({ stripeEventId: 'stripe-status-at-deadline', refundWindowEndsAt: expect.any(Number) });
    expect(callsFor(purchase.id)).toHaveLength(1);
    expect(callsFor(purchase.id)[0]).toBeGreaterThanOrEqual(startedAt + DAY);
    expect(await count('mint', purchase.paymentIntentId)).toBe(1);
    expect(await balanceOf(member)).toMatchObject({ available: '3' });
    // The late webhook then arrives after all: it changes nothing.
    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    expect(await count('mint', purchase.paymentIntentId)).toBe(1);
    await expectCleanLedger();
  });

  it('gives a payment still processing at the deadline another full period, then cancels it', async () => {
    const member = await newMember();
    const startedAt = await stack.now();
    const purchase = await buy(member, '1');
    settleAnswers.set(purchase.id, ['processing']);

    // A minute before the second deadline: Stripe was asked once (at the first), the payment still waits.
    await stack.sleepUntil(startedAt + 2 * DAY - MINUTE);
    expect(await stack.firedTimers(purchase.workflowId)).toBe(1);
    expect(callsFor(purchase.id)).toHaveLength(1);
    expect((await purchaseOf(member, purchase.id)).status).toBe('awaiting_payment');

    const result = await stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(purchase.workflowId).result();
    expect(result.status).toBe('expired');
    const [first, second, ...more] = callsFor(purchase.id);
    expect(more).toEqual([]);
    expect(first).toBeGreaterThanOrEqual(startedAt + DAY);
    expect(second! - first!).toBeGreaterThanOrEqual(DAY);
    expect(await count('mint', purchase.paymentIntentId)).toBe(0);
    await expectCleanLedger();
  });

  it('fails a purchase Stripe refuses to create a payment for, at once: the POST answers 502 and so does its replay, and nothing waits', async () => {
    const member = await newMember();
    const key = randomUUID();
    const post = () => api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount: '7.77' }, headers: { 'idempotency-key': key } });
    const startedAt = await stack.now();
    const res = await post();
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'PAYMENT_PROVIDER_ERROR', message: expect.stringContaining('refused to create the payment') });
    const { rows } = await stack.pool.query<{ id: string }>('SELECT id FROM credit_purchases WHERE member_id = $1', [member.id]);
    const purchaseId = rows[0]!.id;
    const workflowId = `credit-purchase:${purchaseId}`;
    // Tried once, never retried: the workflow ended with the purchase, with no time gone by and no timer.
    const result = await stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(workflowId).result();
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.paymentIntentId).toBeUndefined();
    expect(await closeTimeOf(workflowId)).toBeLessThan(startedAt + MINUTE);
    expect(await stack.firedTimers(workflowId)).toBe(0);
    const seen = await purchaseOf(member, purchaseId);
    expect(seen).toMatchObject({ status: 'failed', mintTransactionId: null });
    expect(seen.history).toEqual([expect.objectContaining({ step: 'payment-refused', status: 'failed', detail: { reason: 'PAYMENT_PROVIDER_ERROR: Stripe refused the request (StripeInvalidRequestError 400 parameter_invalid_integer)' } })]);
    expect((await post()).status).toBe(502);
    expect((await stack.client.workflow.getHandle(workflowId).describe()).searchAttributes).toMatchObject({ BusinessStatus: ['failed'] });
  });

  it('at the deadline, expires a payment Stripe no longer has, and keeps asking while Stripe refuses to report on one (its PaymentIntent stays payable)', async () => {
    const member = await newMember();
    const missing = await buy(member, '1');
    const refused = await buy(member, '1');
    refusedAtDeadline.set(missing.id, [new Stripe.errors.StripeInvalidRequestError({ statusCode: 404, code: 'resource_missing', message: 'No such payment_intent' })]);
    // A revoked key, until an operator puts the right one back: three refusals, then Stripe answers.
    refusedAtDeadline.set(refused.id, Array.from({ length: 3 }, () => new Stripe.errors.StripeAuthenticationError({ statusCode: 401, message: 'Invalid API Key provided' })));
    const resultOf = (p: { workflowId: string }) => stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(p.workflowId).result();
    expect(await resultOf(missing)).toMatchObject({ status: 'expired' });
    expect(callsFor(missing.id)).toHaveLength(1);
    // Never ended while the payment could still be made: asked again after each refusal, then cancelled and expired.
    expect(await resultOf(refused)).toMatchObject({ status: 'expired' });
    expect(callsFor(refused.id)).toHaveLength(4);
    expect((await purchaseOf(member, refused.id)).history.map((h) => [h.step, h.status])).toEqual([['payment-created', 'awaiting_payment'], ['expired', 'expired']]);
    expect(await count('mint', refused.paymentIntentId)).toBe(0);
  });

  it('takes a payment outcome only for its own PaymentIntent: another one, even signed and naming the purchase, mints nothing', async () => {
    const member = await newMember();
    const purchase = await buy(member, '2');
    // Its metadata names the purchase, but the purchase has recorded its own PaymentIntent: the event is recorded and acknowledged, for no purchase.
    const foreign = await webhook('payment_intent.succeeded', { id: 'pi_someone_elses', object: 'payment_intent', metadata: { purchaseId: purchase.id } });
    expect(foreign.status).toBe(200);
    const { rows } = await stack.pool.query(`SELECT purchase_id, problem FROM stripe_events WHERE payload->'data'->'object'->>'id' = 'pi_someone_elses' AND payload->'data'->'object'->'metadata'->>'purchaseId' = $1`, [purchase.id]);
    expect(rows).toEqual([{ purchase_id: null, problem: expect.stringContaining('pi_someone_elses') }]);
    // Should one reach the workflow all the same (it came before the purchase recorded its PaymentIntent), the workflow records it and waits on.
    const handle = stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(purchase.workflowId);
    await handle.signal(paymentEvent, { eventId: 'evt_foreign_success', kind: 'succeeded', paymentIntentId: 'pi_someone_elses' });
    const waiting = await eventually(() => purchaseOf(member, purchase.id), (p) => p.history.length === 2);
    expect(waiting.status).toBe('awaiting_payment');
    expect(waiting.history[1]).toMatchObject({ step: 'evt_foreign_success', status: 'awaiting_payment', detail: { ignored: 'another PaymentIntent', kind: 'succeeded', paymentIntentId: 'pi_someone_elses' } });
    expect(await count('mint', purchase.paymentIntentId)).toBe(0);
    expect(await count('mint', 'pi_someone_elses')).toBe(0);

    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    expect(await handle.result()).toMatchObject({ status: 'minted' });
    expect(await count('mint', purchase.paymentIntentId)).toBe(1);
    await expectCleanLedger();
  });

  const refundWorkflowOf = (purchaseId: string) => stack.client.workflow.getHandle<() => Promise<{ clawedBackCents: bigint }>>(purchaseRefundWorkflowId(purchaseId));

  it('completes once minted: no workflow and no timer stays open for the refund window', async () => {
    const member = await newMember();
    const purchase = await buy(member, '1');
    const paidAt = await stack.now();
    await succeeded(purchase.paymentIntentId);

    const handle = stack.client.workflow.getHandle<() => Promise<CreditPurchaseState>>(purchase.workflowId);
    expect(await handle.result()).toMatchObject({ status: 'minted', clawedBackCents: 0n });
    expect(await closeTimeOf(purchase.workflowId)).toBeLessThan(paidAt + HOUR);
    expect((await purchaseOf(member, purchase.id)).history.find((h) => h.step === 'minted')?.detail).toMatchObject({ refundWindowEndsAt: expect.any(Number) });
    expect(await count('mint', purchase.paymentIntentId)).toBe(1);
    expect(await balanceOf(member)).toMatchObject({ available: '1' });
    await expectCleanLedger();
  });

  it('claws back a refund that comes months after the purchase completed exactly once, in a short workflow, and ignores one after the window', async () => {
    const member = await newMember();
    const purchase = await buy(member, '5');
    const paidAt = await stack.now();
    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    // Waiting on a result would let the test server skip time: the state is polled instead.
    const closed = (workflowId: string) => eventually(() => stack.client.workflow.getHandle(workflowId).describe(), (d) => d.status.name === 'COMPLETED');
    await closed(purchase.workflowId);

    await stack.sleepUntil(paidAt + 119 * DAY);
    expect((await refunded(purchase.paymentIntentId, 1_000)).status).toBe(200);
    await eventually(() => purchaseOf(member, purchase.id), (p) => p.status === 'refunded' && p.refundedUsd === '10');
    // Its workflow ends a minute after the last event; Stripe then re-sends the same total: a new run, and nothing more is owed.
    await stack.sleepUntil(paidAt + 119 * DAY + HOUR);
    await closed(purchaseRefundWorkflowId(purchase.id));
    expect((await refunded(purchase.paymentIntentId, 1_000)).status).toBe(200);
    await eventually(() => purchaseOf(member, purchase.id), (p) => p.history.filter((h) => h.detail.kind === 'refunded').length === 2);
    expect(await count('refund_clawback', purchase.paymentIntentId)).toBe(1);

    // After the window: recorded and acknowledged, nothing is clawed back.
    await stack.sleepUntil(paidAt + 121 * DAY);
    expect((await refunded(purchase.paymentIntentId, 5_000)).status).toBe(200);
    expect(await refundWorkflowOf(purchase.id).result()).toEqual({ clawedBackCents: 1_000n });
    expect(await closeTimeOf(purchaseRefundWorkflowId(purchase.id))).toBeGreaterThanOrEqual(paidAt + 121 * DAY);
    expect(await count('refund_clawback', purchase.paymentIntentId)).toBe(1);
    expect(await balanceOf(member)).toMatchObject({ available: '4', debt: '0' });
    expect((await purchaseOf(member, purchase.id)).refundedUsd).toBe('10');
    await expectCleanLedger();
  });
});
