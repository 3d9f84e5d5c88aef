import { randomUUID } from 'node:crypto';
import pino from 'pino';
import Stripe from 'stripe';
import { buyCredits } from '../../api/services/credit-purchases';
import { createPurchase } from '../../db/credit-purchases';
import * as ledger from '../../db/ledger';
import { creditPurchase, creditPurchaseWorkflowId } from '../../workflows/credit-purchase';
import { eventually } from '../harness/eventually';
import { randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Buying credits end to end: the API, a worker, the Temporal dev server, PostgreSQL and stripe-mock,
 * with webhooks signed locally with the webhook secret, as Stripe would sign them.
 */
describe('credit purchase', () => {
  let api: TestApi;
  let worker: TestWorker | undefined;
  let coop: string;
  const stripe = new Stripe('sk_test_unused');

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `buy-${randomUUID().slice(0, 8)}`, name: 'Buyers' } })).body.id;
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  async function newMember(): Promise<{ id: string; token: string }> {
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const res = await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } });
    return { id: res.body.id, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId: coop }) };
  }

  async function buy(member: { token: string }, body: Record<string, string>) {
    const res = await api.request('POST', '/v1/credit-purchases', { token: member.token, body, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'awaiting_payment', paymentIntentId: expect.stringMatching(/^pi_/), clientSecret: expect.any(String) });
    return res.body as { id: string; paymentIntentId: string; workflowId: string };
  }

  function webhook(event: { id?: string; type: string; object: Record<string, unknown> }, secret = api.config.stripe.webhookSecret) {
    const payload = JSON.stringify({ id: event.id ?? `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: event.type, data: { object: event.object } });
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
    return api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': header } });
  }
  const succeeded = (pi: string, id?: string) => webhook({ id, type: 'payment_intent.succeeded', object: { id: pi, object: 'payment_intent' } });
  const refunded = (pi: string, cents: number) => webhook({ type: 'charge.refunded', object: { id: `ch_${randomUUID().slice(0, 8)}`, object: 'charge', payment_intent: pi, amount_refunded: cents } });

  async function statusOf(member: { token: string }, purchaseId: string): Promise<{ status: string; history: unknown[]; mintTransactionId: string | null; refundedUsd: string }> {
    return (await api.request('GET', `/v1/credit-purchases/${purchaseId}`, { token: member.token })).body;
  }

  /** Polls until the purchase reaches a status (bounded: a missed status fails with what was seen). */
  async function until(member: { token: string }, purchaseId: string, status: string, check: (p: Awaited<ReturnType<typeof statusOf>>) => boolean = () => true) {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const p = await statusOf(member, purchaseId);
      if (p.status === status && check(p)) return p;
      if (Date.now() > deadline) throw new Error(`purchase ${purchaseId} is ${p.status}, expected ${status}: ${JSON.stringify(p.history)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function mintsFor(paymentIntentId: string): Promise<number> {
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE type = 'mint' AND metadata->>'sourceId' = $1`, [paymentIntentId]);
    return rows[0].n;
  }

  async function expectCleanLedger() {
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  }

  it('mints exactly once when the payment succeeds, and the workflow carries its search attributes', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '5' });
    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    await until(member, purchase.id, 'minted');
    expect(await mintsFor(purchase.paymentIntentId)).toBe(1);
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token });
    expect(balance.body).toMatchObject({ available: '5', lots: [expect.objectContaining({ source: 'purchase', sourceId: purchase.paymentIntentId, category: 'paid' })] });
    const description = await api.temporal.workflow.getHandle(purchase.workflowId).describe();
    expect(description.searchAttributes).toMatchObject({ CooperativeId: [coop], MemberId: [member.id], BusinessStatus: ['minted'] });
    await expectCleanLedger();
  });

  it('answers the POST from the workflow task that started the purchase: its PaymentIntent and record are local steps, and a paid purchase completes in one more task', async () => {
    const member = await newMember();
    const purchase = (await buy(member, { amount: '1' })) as Awaited<ReturnType<typeof buy>> & { clientSecret: string };
    // What the POST answered is what the workflow recorded before its Update completed: nothing was left to poll for.
    const stored = (await api.request('GET', `/v1/credit-purchases/${purchase.id}`, { token: member.token })).body;
    expect(stored).toMatchObject({ status: 'awaiting_payment', paymentIntentId: purchase.paymentIntentId, clientSecret: purchase.clientSecret });
    const handle = api.temporal.workflow.getHandle(purchase.workflowId);
    const tasksBefore = (events: Awaited<ReturnType<typeof handle.fetchHistory>>['events'], done: (e: NonNullable<typeof events>[number]) => boolean) =>
      events!.slice(0, events!.findIndex(done)).filter((e) => e.workflowTaskCompletedEventAttributes).length;
    const started = (await handle.fetchHistory()).events!;
    expect(tasksBefore(started, (e) => !!e.workflowExecutionUpdateCompletedEventAttributes)).toBe(1);

    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    await handle.result();
    const events = (await handle.fetchHistory()).events!;
    expect(tasksBefore(events, (e) => !!e.workflowExecutionCompletedEventAttributes)).toBe(2);
    // Creating the payment, recording it, minting and recording the mint: four local steps, no activity task.
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(4);
    expect(await mintsFor(purchase.paymentIntentId)).toBe(1);
  });

  it('answers a replay sent while the first POST still waits with the same purchase and secret, and refuses another body under the key', async () => {
    const member = await newMember();
    await worker!.stop();
    worker = undefined;
    const key = randomUUID();
    const post = (amount: string) => api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount }, headers: { 'idempotency-key': key } });
    const first = post('3');
    // The first is in flight once its workflow exists, waiting for a worker to create the payment.
    const { rows } = await eventually(() => api.pool.query<{ id: string }>('SELECT id FROM credit_purchases WHERE member_id = $1', [member.id]), (r) => r.rows.length === 1);
    const workflowId = creditPurchaseWorkflowId(rows[0]!.id);
    await eventually(() => api.temporal.workflow.getHandle(workflowId).describe().then(() => true, () => false), (exists) => exists);
    const replay = post('3');
    expect((await post('4')).status).toBe(422);
    worker = await startTestWorker();
    const [a, b] = await Promise.all([first, replay]);
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(a.body).toMatchObject({ id: rows[0]!.id, status: 'awaiting_payment', workflowId, paymentIntentId: expect.stringMatching(/^pi_/), clientSecret: expect.any(String) });
    expect(b.body).toMatchObject({ id: a.body.id, paymentIntentId: a.body.paymentIntentId, clientSecret: a.body.clientSecret });
    expect((await succeeded(a.body.paymentIntentId)).status).toBe(200);
    await until(member, a.body.id, 'minted');
    expect(await mintsFor(a.body.paymentIntentId)).toBe(1);
    // A replay after the purchase is done answers from the record, and starts nothing.
    const later = await post('3');
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ id: a.body.id, status: 'minted', clientSecret: a.body.clientSecret });
    await expectCleanLedger();
  });

  it('answers within its wait with the purchase as stored when no worker makes the payment, and a replay once one does with the secret', async () => {
    const member = await newMember();
    const taskQueue = `purchases-unpolled-${randomUUID().slice(0, 8)}`;
    const deps = { config: { ...api.config, temporal: { ...api.config.temporal, taskQueue } }, pool: api.pool, temporal: api.temporal, logger: pino({ level: 'silent' }), stripe, workflowWaitMs: 2_000 };
    const request = { cooperativeId: coop, memberId: member.id, amount: 2_000_000n, idempotencyKey: randomUUID() };
    const waited = await buyCredits(deps, request);
    expect(waited).toMatchObject({ created: true, purchase: { status: 'creating_payment', clientSecret: null } });
    // The workflow was started all the same: the replay joins it once a worker polls its queue.
    expect((await api.temporal.workflow.getHandle(creditPurchaseWorkflowId(waited.purchase.id)).describe()).status.name).toBe('RUNNING');
    const late = await startTestWorker({ taskQueue });
    try {
      const replayed = await buyCredits({ ...deps, workflowWaitMs: 60_000 }, request);
      expect(replayed).toMatchObject({ created: false, purchase: { id: waited.purchase.id, status: 'awaiting_payment', clientSecret: expect.any(String) } });
    } finally {
      await late.stop();
    }
  });

  it('mints once for ten identical webhooks sent at once, and for both success events Stripe sends', async () => {
    const member = await newMember();
    const purchase = await buy(member, { pack: 'starter' });
    const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => succeeded(purchase.paymentIntentId, eventId)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    await webhook({ type: 'checkout.session.completed', object: { id: 'cs_1', object: 'checkout.session', payment_intent: purchase.paymentIntentId, payment_status: 'paid' } });
    await until(member, purchase.id, 'minted');
    expect(await mintsFor(purchase.paymentIntentId)).toBe(1);
    const { rows } = await api.pool.query('SELECT count(*)::int AS n FROM stripe_events WHERE id = $1', [eventId]);
    expect(rows[0].n).toBe(1);
    await expectCleanLedger();
  });

  it('mints once when the webhook arrives while no worker is running the workflow', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '2' });
    await worker!.stop();
    worker = undefined;
    expect((await succeeded(purchase.paymentIntentId)).status).toBe(200);
    expect((await statusOf(member, purchase.id)).status).toBe('awaiting_payment');
    worker = await startTestWorker();
    await until(member, purchase.id, 'minted');
    expect(await mintsFor(purchase.paymentIntentId)).toBe(1);
    await expectCleanLedger();
  });

  it('mints once when the webhook arrives before the purchase has even recorded its payment', async () => {
    const member = await newMember();
    await worker!.stop();
    worker = undefined;
    const { purchase } = await createPurchase(api.pool, { id: randomUUID(), cooperativeId: coop, memberId: member.id, amount: 2_000_000n, amountCents: 2_000n, idempotencyKey: randomUUID() });
    await api.temporal.workflow.start(creditPurchase, {
      taskQueue: api.config.temporal.taskQueue,
      workflowId: creditPurchaseWorkflowId(purchase.id),
      args: [{ purchaseId: purchase.id, cooperativeId: coop, memberId: member.id, amount: purchase.amount, amountCents: purchase.amountCents }],
    });
    // Stripe events carry the PaymentIntent's metadata, where the workflow put the purchase id.
    const early = await webhook({ type: 'payment_intent.succeeded', object: { id: 'pi_not_yet_recorded', object: 'payment_intent', metadata: { purchaseId: purchase.id } } });
    expect(early.status).toBe(200);
    worker = await startTestWorker();
    const minted = await until(member, purchase.id, 'minted');
    expect(minted.history.map((h) => (h as { step: string }).step)).toEqual(['payment-created', 'minted']);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token })).body.available).toBe('2');
    await expectCleanLedger();
  });

  it('records a failed payment attempt and still mints once when a retry succeeds', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '1' });
    await webhook({ type: 'payment_intent.payment_failed', object: { id: purchase.paymentIntentId, object: 'payment_intent' } });
    await until(member, purchase.id, 'awaiting_payment', (p) => p.history.length === 2);
    await succeeded(purchase.paymentIntentId);
    const done = await until(member, purchase.id, 'minted');
    expect(done.history).toEqual([
      expect.objectContaining({ step: 'payment-created' }),
      expect.objectContaining({ status: 'awaiting_payment', detail: { paymentFailed: true } }),
      expect.objectContaining({ step: 'minted' }),
    ]);
    expect(await mintsFor(purchase.paymentIntentId)).toBe(1);
  });

  it('refuses unsigned, wrongly signed and tampered webhooks, recording nothing', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '1' });
    const payload = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: purchase.paymentIntentId } } });
    const forged = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_the_secret' });
    const genuine = stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret });
    const attempts: Array<Record<string, string>> = [{}, { 'stripe-signature': forged }, { 'stripe-signature': 'garbage' }];
    for (const headers of attempts) {
      const res = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const tampered = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload.replace('"evt_forged"', '"evt_forgeD"'), headers: { 'stripe-signature': genuine } });
    expect(tampered.status).toBe(400);
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM stripe_events WHERE id IN ('evt_forged', 'evt_forgeD')`);
    expect(rows[0].n).toBe(0);
    expect((await statusOf(member, purchase.id)).status).toBe('awaiting_payment');
  });

  it('records and acknowledges an event for an unknown purchase', async () => {
    const res = await succeeded('pi_unknown_to_us', 'evt_unknown_purchase');
    expect(res.status).toBe(200);
    const { rows } = await api.pool.query(`SELECT purchase_id FROM stripe_events WHERE id = 'evt_unknown_purchase'`);
    expect(rows).toEqual([{ purchase_id: null }]);
  });

  it('claws back a refund and a later dispute together, never more than was paid', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '1' });
    await succeeded(purchase.paymentIntentId);
    await until(member, purchase.id, 'minted');
    await refunded(purchase.paymentIntentId, 300);
    await until(member, purchase.id, 'refunded', (p) => p.refundedUsd === '3');
    await webhook({ type: 'charge.dispute.created', object: { id: 'dp_2', object: 'dispute', payment_intent: purchase.paymentIntentId, amount: 700 } });
    await until(member, purchase.id, 'refunded', (p) => p.refundedUsd === '10');
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token })).body).toMatchObject({ wallet: '0', debt: '0' });
    await expectCleanLedger();
  });

  it('claws back a refund after partial spending once, and records the rest as debt', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '5' });
    await succeeded(purchase.paymentIntentId);
    await until(member, purchase.id, 'minted');
    const service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
    const spent = await api.request('POST', `/v1/cooperatives/${coop}/usage`, { token: service, body: { memberId: member.id, primitive: 'compute_hours', quantity: '2' }, headers: { 'idempotency-key': randomUUID() } });
    expect(spent.status).toBe(201);
    await refunded(purchase.paymentIntentId, 5_000);
    await until(member, purchase.id, 'refunded', (p) => p.refundedUsd === '50');
    // Stripe retries and re-sends: the same total refunded changes nothing.
    await refunded(purchase.paymentIntentId, 5_000);
    await webhook({ type: 'charge.dispute.created', object: { id: 'dp_1', object: 'dispute', payment_intent: purchase.paymentIntentId, amount: 5_000 } });
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token });
    expect(balance.body).toMatchObject({ available: '0', wallet: '0', debt: '2' });
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE type = 'refund_clawback' AND metadata->>'paymentSourceId' = $1`, [purchase.paymentIntentId]);
    expect(rows[0].n).toBe(1);
    await expectCleanLedger();
  });

  it('validates purchase requests and scopes them to the member', async () => {
    const member = await newMember();
    for (const body of [{}, { amount: '5', pack: 'starter' }, { amount: '0.5' }, { amount: '1.0001' }, { pack: 'huge' }, { amount: 5 }]) {
      const res = await api.request('POST', '/v1/credit-purchases', { token: member.token, body, headers: { 'idempotency-key': randomUUID() } });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const key = randomUUID();
    const first = await api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount: '1' }, headers: { 'idempotency-key': key } });
    const again = await api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount: '1' }, headers: { 'idempotency-key': key } });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
    const other = await newMember();
    expect((await api.request('GET', `/v1/credit-purchases/${first.body.id}`, { token: other.token })).status).toBe(403);
  });
});
