import { randomUUID } from 'node:crypto';
import pino from 'pino';
import Stripe from 'stripe';
import { createPaymentActivities } from '../../activities/payments';
import { buyCredits } from '../../api/services/credit-purchases';
import { createPurchase, recordPurchaseStep } from '../../db/credit-purchases';
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
  const succeeded = (pi: string, id?: string, metadata?: Record<string, string>) => webhook({ id, type: 'payment_intent.succeeded', object: { id: pi, object: 'payment_intent', ...(metadata ? { metadata } : {}) } });
  const refunded = (pi: string, cents: number, more: Record<string, unknown> = {}, id?: string) =>
    webhook({ id, type: 'charge.refunded', object: { id: `ch_${randomUUID().slice(0, 8)}`, object: 'charge', payment_intent: pi, amount_refunded: cents, ...more } });
  const recorded = async (eventId: string) => (await api.pool.query('SELECT purchase_id, problem, signalled_at IS NOT NULL AS signalled FROM stripe_events WHERE id = $1', [eventId])).rows;

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

  it('mints once when the webhook arrives before the purchase has recorded its payment, and never for another PaymentIntent naming the purchase', async () => {
    const member = await newMember();
    // A task queue of its own, with no worker until the forged event is in: on the shared one, another
    // file's worker could run the purchase's step without this test's override.
    const taskQueue = `purchases-early-${randomUUID().slice(0, 8)}`;
    const { purchase } = await createPurchase(api.pool, { id: randomUUID(), cooperativeId: coop, memberId: member.id, amount: 2_000_000n, amountCents: 2_000n, idempotencyKey: randomUUID() });
    await api.temporal.workflow.start(creditPurchase, {
      taskQueue,
      workflowId: creditPurchaseWorkflowId(purchase.id),
      args: [{ purchaseId: purchase.id, cooperativeId: coop, memberId: member.id, amount: purchase.amount, amountCents: purchase.amountCents }],
    });
    // Anyone can put the purchase's id in a PaymentIntent's metadata: while the purchase has no PaymentIntent of its own yet, this one is linked and signalled.
    const forged = await succeeded('pi_someone_elses', undefined, { purchaseId: purchase.id });
    expect(forged.status).toBe(200);
    // Stripe's own event for the purchase's PaymentIntent, sent the moment it exists, before the workflow records it.
    let early: { status: number } | undefined;
    const earlyWorker = await startTestWorker({
      taskQueue,
      activityOverrides: (real) => ({
        async createPaymentIntent(input) {
          const intent = await real.createPaymentIntent(input);
          early ??= await succeeded(intent.paymentIntentId, undefined, { purchaseId: purchase.id });
          return intent;
        },
      }),
    });
    const minted = await until(member, purchase.id, 'minted').finally(() => earlyWorker.stop());
    expect(early?.status).toBe(200);
    const steps = minted.history as Array<{ step: string; detail: Record<string, unknown> }>;
    expect(steps.map((h) => h.step)).toEqual(['payment-created', expect.stringMatching(/^evt_/), 'minted']);
    expect(steps[1]!.detail).toEqual({ ignored: 'another PaymentIntent', kind: 'succeeded', paymentIntentId: 'pi_someone_elses' });
    expect(await mintsFor('pi_someone_elses')).toBe(0);
    const paymentIntentId = (await statusOf(member, purchase.id) as unknown as { paymentIntentId: string }).paymentIntentId;
    expect(await mintsFor(paymentIntentId)).toBe(1);
    // Once the purchase has its PaymentIntent, another one naming it is not even linked: recorded for operators, acknowledged.
    const later = `evt_${randomUUID().replace(/-/g, '')}`;
    expect((await succeeded('pi_someone_elses_too', later, { purchaseId: purchase.id })).status).toBe(200);
    expect(await recorded(later)).toEqual([{ purchase_id: null, problem: 'no purchase of ours has PaymentIntent pi_someone_elses_too', signalled: false }]);
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

  it('records and acknowledges an event for a purchase that is not ours, with its problem', async () => {
    const res = await succeeded('pi_unknown_to_us', 'evt_unknown_purchase', { purchaseId: randomUUID() });
    expect(res.status).toBe(200);
    expect(await recorded('evt_unknown_purchase')).toEqual([{ purchase_id: null, problem: 'no purchase of ours has PaymentIntent pi_unknown_to_us', signalled: false }]);
  });

  it('links an event no purchase claimed when Stripe resends it after the purchase recorded its PaymentIntent', async () => {
    const member = await newMember();
    // A purchase creating its payment (no workflow: the test records its PaymentIntent itself).
    const { purchase } = await createPurchase(api.pool, { id: randomUUID(), cooperativeId: coop, memberId: member.id, amount: 1_000_000n, amountCents: 1_000n, idempotencyKey: randomUUID() });
    const pi = `pi_${randomUUID().replace(/-/g, '')}`;
    // A dispute names no purchase, only the PaymentIntent, which no purchase has recorded yet: acknowledged, with its problem.
    const dispute = { id: `evt_${randomUUID().replace(/-/g, '')}`, type: 'charge.dispute.created', object: { id: 'dp_early', object: 'dispute', payment_intent: pi, amount: 400 } };
    expect((await webhook(dispute)).status).toBe(200);
    expect(await recorded(dispute.id)).toEqual([{ purchase_id: null, problem: `no purchase of ours has PaymentIntent ${pi}`, signalled: false }]);
    await recordPurchaseStep(api.pool, { cooperativeId: coop, purchaseId: purchase.id, step: 'payment-created', status: 'awaiting_payment', set: { paymentIntentId: pi, clientSecret: 'secret' } });
    // A resend (Stripe's, or an operator's from the dashboard) finds the purchase: linked and signalled.
    expect((await webhook(dispute)).status).toBe(200);
    expect(await recorded(dispute.id)).toEqual([{ purchase_id: purchase.id, problem: null, signalled: true }]);
    await recordPurchaseStep(api.pool, { cooperativeId: coop, purchaseId: purchase.id, step: 'expired', status: 'expired' });
  });

  it('fails a purchase Stripe refuses to create a payment for: the POST answers 502 PAYMENT_PROVIDER_ERROR at once, and the purchase shows why', async () => {
    // The one fault stripe-mock cannot give: a worker of this test's own whose Stripe client refuses, on a task queue of its own.
    const taskQueue = `purchases-refused-${randomUUID().slice(0, 8)}`;
    const refusing = { paymentIntents: { create: async () => { throw new Stripe.errors.StripeAuthenticationError({ statusCode: 401, message: 'Invalid API Key provided: sk_live_****' }); } } } as unknown as Stripe;
    const refusingWorker = await startTestWorker({ taskQueue, activityOverrides: () => ({ createPaymentIntent: createPaymentActivities(api.pool, refusing).createPaymentIntent }) });
    const refusingApi = await startTestApi({ TEMPORAL_TASK_QUEUE: taskQueue });
    try {
      const member = await newMember();
      const key = randomUUID();
      const post = () => refusingApi.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount: '1' }, headers: { 'idempotency-key': key } });
      const startedAt = Date.now();
      const res = await post();
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('PAYMENT_PROVIDER_ERROR');
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      const { rows } = await api.pool.query<{ id: string }>('SELECT id FROM credit_purchases WHERE member_id = $1', [member.id]);
      const purchase = await statusOf(member, rows[0]!.id);
      expect(purchase).toMatchObject({ status: 'failed', mintTransactionId: null });
      expect(purchase.history).toEqual([expect.objectContaining({ step: 'payment-refused', status: 'failed', detail: { reason: 'PAYMENT_PROVIDER_ERROR: Stripe refused the request (StripeAuthenticationError 401)' } })]);
      expect(res.body.error.message).toContain(rows[0]!.id);
      // The replay answers the same, from the record; the workflow ended.
      expect((await post()).status).toBe(502);
      expect((await api.temporal.workflow.getHandle(creditPurchaseWorkflowId(rows[0]!.id)).describe()).status.name).toBe('COMPLETED');
      const listed = await api.request('GET', `/v1/cooperatives/${coop}/credit-purchases?status=failed&memberId=${member.id}`, { token: member.token });
      expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual([rows[0]!.id]);
    } finally {
      await Promise.all([refusingApi.close(), refusingWorker.stop()]);
    }
  });

  it('acknowledges and applies a signed refund whose customer text the database cannot hold', async () => {
    const member = await newMember();
    const purchase = await buy(member, { amount: '2' });
    await succeeded(purchase.paymentIntentId);
    await until(member, purchase.id, 'minted');
    const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
    const res = await refunded(purchase.paymentIntentId, 500, { billing_details: { name: 'Eve\u0000 \ud800', address: { line1: '\u0000' } }, description: 'refund \udc00' }, eventId);
    expect(res.status).toBe(200);
    await until(member, purchase.id, 'refunded', (p) => p.refundedUsd === '5');
    expect(await recorded(eventId)).toEqual([{ purchase_id: purchase.id, problem: null, signalled: true }]);
    const { rows } = await api.pool.query(`SELECT payload->'data'->'object'->'billing_details'->>'name' AS name FROM stripe_events WHERE id = $1`, [eventId]);
    expect(rows).toEqual([{ name: 'Eve\ufffd \ufffd' }]);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token })).body).toMatchObject({ wallet: '1.5' });
    await expectCleanLedger();
  });

  it('records and acknowledges a signed event of a type it acts on that lacks what it acts on', async () => {
    const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
    const res = await webhook({ id: eventId, type: 'charge.refunded', object: { id: 'ch_1', object: 'charge', payment_intent: 'pi_1', amount_refunded: 12.5 } });
    expect(res.status).toBe(200);
    expect(await recorded(eventId)).toEqual([{ purchase_id: null, problem: expect.stringContaining('charge.refunded lacks what it must carry: data.object.amount_refunded'), signalled: false }]);
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
    // Another member's purchase is as unknown as one that does not exist.
    expect((await api.request('GET', `/v1/credit-purchases/${first.body.id}`, { token: other.token })).status).toBe(404);
  });
});
