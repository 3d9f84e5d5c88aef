import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import Stripe from 'stripe';
import * as ledger from '../../db/ledger';
import type { CreditPurchaseState } from '../../workflows/credit-purchase';
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

  beforeAll(async () => {
    stack = await startTimeSkippingStack({
      api: true,
      activityOverrides: (real) => ({
        async settleUnpaidPayment(input) {
          settleCalls.push({ purchaseId: input.purchaseId, scheduledAt: Context.current().info.currentAttemptScheduledTimestampMs });
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
