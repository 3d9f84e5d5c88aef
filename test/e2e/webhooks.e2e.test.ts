import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Stripe from 'stripe';
import { mint } from '../../db/ledger';
import { webhookDeliveryWorkflowId } from '../../domain/webhooks';
import type { ScheduledJobResult } from '../../domain/scheduled-jobs';
import { keepRunning } from '../../scripts/restarting-process';
import { eventually } from '../harness/eventually';
import { randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../harness/webhook-receiver';

/**
 * Outbound webhooks end to end: the API, a worker with the outbox relay beside it (as in production),
 * the Temporal dev server, PostgreSQL, stripe-mock, and a receiver on a local port that verifies every
 * signature the way the README tells receivers to. The tests run one after another: the relay
 * publishes every cooperative's events, and the last test replaces the worker with a supervised one.
 */
describe('outbound webhooks', () => {
  let api: TestApi;
  let worker: TestWorker | undefined;
  let receiver: WebhookReceiver;
  let operator: string;
  const stripe = new Stripe('sk_test_unused');

  interface Coop {
    id: string;
    admin: string;
    members: Array<{ id: string; token: string }>;
  }

  beforeAll(async () => {
    // Dead-letter retries 1 s apart (DEAD_LETTER_RETRY_DELAYS), passed by the relay to the delivery workflows it starts.
    const env = { DEAD_LETTER_RETRY_DELAYS: '1,1,1' };
    [api, worker, receiver] = await Promise.all([startTestApi(env), startTestWorker({ relay: true, env }), startWebhookReceiver()]);
    operator = await api.token({ subject: 'op', role: 'operator' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop(), receiver?.close()]);
  });

  /** A cooperative with members, whose setup events are all published, so an endpoint registered now gets exactly what follows. */
  async function cooperative(size: number): Promise<Coop> {
    const id = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `hooks-${randomUUID().slice(0, 8)}`, name: 'Hooks' } })).body.id as string;
    const admin = await api.token({ subject: `admin-${id}`, role: 'coop_admin', cooperativeId: id });
    const members = [];
    for (let i = 0; i < size; i++) {
      const m = (await api.request('POST', `/v1/cooperatives/${id}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
      members.push({ id: m, token: await api.token({ subject: m, role: 'member', cooperativeId: id }) });
    }
    await eventually(async () => (await api.pool.query('SELECT count(*)::int AS n FROM outbox WHERE cooperative_id = $1 AND published_at IS NULL', [id])).rows[0].n, (n) => n === 0);
    return { id, admin, members };
  }

  async function register(coop: Coop, eventTypes: string[] = ['*'], key = randomUUID()) {
    const res = await api.request('POST', `/v1/cooperatives/${coop.id}/webhook-endpoints`, { token: coop.admin, body: { url: receiver.url, eventTypes }, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    receiver.secrets.push(res.body.secret);
    return res.body as { id: string; secret: string };
  }

  /** The cooperative's events after `afterSequence`, in the order they must be delivered. */
  async function outboxEvents(coop: Coop, afterSequence = 0n) {
    const { rows } = await api.pool.query(`SELECT event_id, event_type, aggregate_id FROM outbox WHERE cooperative_id = $1 AND id > $2 ORDER BY xid, id`, [coop.id, afterSequence]);
    return rows as Array<{ event_id: string; event_type: string; aggregate_id: string }>;
  }
  const lastSequence = async (coop: Coop) => BigInt((await api.pool.query('SELECT coalesce(max(id), 0)::text AS id FROM outbox WHERE cooperative_id = $1', [coop.id])).rows[0].id);
  const received = (coop: Coop) => receiver.deliveries.filter((d) => d.body.cooperativeId === coop.id);

  /** What each aggregate received, by event id in arrival order (a redelivery only where it first arrived). */
  function firstArrivals(deliveries: ReceivedDelivery[]): Record<string, string[]> {
    const seen = new Set<string>();
    const byAggregate: Record<string, string[]> = {};
    for (const d of deliveries) {
      if (seen.has(d.eventId)) continue;
      seen.add(d.eventId);
      (byAggregate[d.body.aggregateId] ??= []).push(d.eventId);
    }
    return byAggregate;
  }
  function inOutboxOrder(events: Awaited<ReturnType<typeof outboxEvents>>): Record<string, string[]> {
    const byAggregate: Record<string, string[]> = {};
    for (const e of events) (byAggregate[e.aggregate_id] ??= []).push(e.event_id);
    return byAggregate;
  }

  /** Credits for a member whose purchase is not what a test is about. */
  const fund = (coop: Coop, member: { id: string }, amount: bigint) =>
    mint(api.pool, { cooperativeId: coop.id, memberId: member.id, amount, source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `fund-${randomUUID()}` });

  async function buyAndPay(member: { token: string }, amount: string) {
    const purchase = (await api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount }, headers: { 'idempotency-key': randomUUID() } })).body;
    expect(purchase.paymentIntentId).toMatch(/^pi_/);
    const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: purchase.paymentIntentId, object: 'payment_intent' } } });
    const paid = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } });
    expect(paid.status).toBe(200);
    await eventually(async () => (await api.request('GET', `/v1/credit-purchases/${purchase.id}`, { token: member.token })).body.status, (s) => s === 'minted');
  }

  const transfer = (coop: Coop, from: { token: string }, to: { id: string }, amount: string) =>
    api.request('POST', `/v1/cooperatives/${coop.id}/transfers`, { token: from.token, body: { toMemberId: to.id, amount }, headers: { 'idempotency-key': randomUUID() } });

  async function decideProposal(coop: Coop) {
    const settings = { model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds: 2, delegationAllowed: true };
    expect((await api.request('PUT', '/v1/governance/settings', { token: coop.admin, body: settings })).status).toBe(200);
    const id = (await api.request('POST', '/v1/proposals', { token: coop.members[0]!.token, body: { title: 'Webhooks' }, headers: { 'idempotency-key': randomUUID() } })).body.id as string;
    for (const m of coop.members) expect((await api.request('POST', `/v1/proposals/${id}/votes`, { token: m.token, body: { choice: 'yes' } })).status).toBe(200);
    await eventually(async () => (await api.request('GET', `/v1/proposals/${id}/results`, { token: coop.admin })).body.status, (s) => s === 'approved');
  }

  it('delivers every event of a purchase, a transfer and a decided proposal once, signed, in order per aggregate', async () => {
    const coop = await cooperative(2);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    const baseline = await lastSequence(coop);
    const endpoint = await register(coop);

    await buyAndPay(alice, '5');
    expect((await transfer(coop, alice, bob, '1.5')).status).toBe(201);
    expect((await transfer(coop, alice, bob, '0.5')).status).toBe(201);
    await decideProposal(coop);

    const expected = await outboxEvents(coop, baseline);
    expect(expected.map((e) => e.event_type)).toEqual(expect.arrayContaining(['cloud.minted', 'cloud.transferred', 'proposal.decided']));
    const got = await eventually(async () => received(coop), (d) => d.length >= expected.length);
    expect(got.map((d) => d.eventId).sort()).toEqual(expected.map((e) => e.event_id).sort());
    expect(new Set(got.map((d) => d.eventId)).size).toBe(got.length);
    expect(firstArrivals(got)).toEqual(inOutboxOrder(expected));
    for (const d of got) {
      expect({ verifiedBy: d.verifiedBy, attempt: d.attempt, header: [d.eventId, d.eventType] }).toEqual({ verifiedBy: [endpoint.secret], attempt: 1, header: [d.body.id, d.body.type] });
    }
    expect(got.find((d) => d.body.type === 'cloud.transferred')!.body).toMatchObject({ aggregateId: alice.id, data: { fromMemberId: alice.id, toMemberId: bob.id, amount: '1.5' } });

    const handle = api.temporal.workflow.getHandle(webhookDeliveryWorkflowId(endpoint.id));
    expect((await handle.describe()).searchAttributes).toMatchObject({ CooperativeId: [coop.id] });
    // The receiver has each delivery when its POST arrives; the sender marks it delivered once the answer is back.
    const statuses = async () => (await api.pool.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status`, [endpoint.id])).rows;
    expect(await eventually(statuses, (rows) => rows.length === 1 && rows[0].status === 'delivered')).toEqual([{ status: 'delivered', n: expected.length }]);
  });

  it('delivers the clawback of a Stripe refund whose customer text the database cannot hold: acknowledged and applied', async () => {
    const coop = await cooperative(1);
    const [alice] = coop.members as [Coop['members'][0]];
    await buyAndPay(alice, '2');
    const endpoint = await register(coop, ['cloud.clawed_back']);
    const { paymentIntentId } = (await api.pool.query(`SELECT payment_intent_id AS "paymentIntentId" FROM credit_purchases WHERE member_id = $1`, [alice.id])).rows[0];
    const payload = JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'charge.refunded',
      data: { object: { id: 'ch_nul', object: 'charge', payment_intent: paymentIntentId, amount_refunded: 1_000, billing_details: { name: 'Mallory\u0000\ud800' } } },
    });
    const res = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } });
    expect(res.status).toBe(200);
    const got = await eventually(async () => received(coop), (d) => d.length >= 1);
    expect(got.map((d) => d.body.type)).toEqual(['cloud.clawed_back']);
    expect(got[0]!.verifiedBy).toEqual([endpoint.secret]);
    expect((await api.request('GET', `/v1/cooperatives/${coop.id}/members/${alice.id}/balance`, { token: alice.token })).body).toMatchObject({ wallet: '1' });
  });

  it('delivers only the subscribed types, to each endpoint of the cooperative, never another cooperative\'s', async () => {
    const [coop, other] = [await cooperative(2), await cooperative(2)];
    const transfers = await register(coop, ['cloud.transferred']);
    await register(other, ['*']);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    const baseline = await lastSequence(coop);
    await fund(coop, alice, 2_000_000n);
    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    const expected = (await outboxEvents(coop, baseline)).filter((e) => e.event_type === 'cloud.transferred');
    expect(expected).toHaveLength(1);
    await eventually(async () => received(coop).length, (n) => n >= 1);
    // The relay has published the later mint too by now (a transfer needs it): nothing else arrives for this cooperative.
    expect(received(coop).map((d) => [d.eventId, d.verifiedBy])).toEqual([[expected[0]!.event_id, [transfers.secret]]]);
    expect(received(other)).toEqual([]);
  });

  it('rotates the secret: shown once (and by a replay), the old one signs beside it for the grace period, or stops at once', async () => {
    const coop = await cooperative(2);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    const endpoint = await register(coop);
    await fund(coop, alice, 3_000_000n);
    const base = `/v1/cooperatives/${coop.id}/webhook-endpoints/${endpoint.id}`;

    const key = randomUUID();
    const rotated = await api.request('POST', `${base}/rotate-secret`, { token: coop.admin, headers: { 'idempotency-key': key } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const replay = await api.request('POST', `${base}/rotate-secret`, { token: coop.admin, headers: { 'idempotency-key': key } });
    expect([replay.body.secret, replay.headers.get('idempotent-replayed')]).toEqual([rotated.body.secret, 'true']);
    receiver.secrets.push(rotated.body.secret);
    for (const read of [await api.request('GET', base, { token: coop.admin }), await api.request('GET', `/v1/cooperatives/${coop.id}/webhook-endpoints`, { token: coop.admin })]) {
      expect(read.status).toBe(200);
      expect(JSON.stringify(read.body)).not.toMatch(/whsec_/);
    }

    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    const during = await eventually(async () => received(coop).filter((d) => d.body.type === 'cloud.transferred'), (d) => d.length === 1);
    expect(during[0]!.signature.match(/v1=/g)).toHaveLength(2);
    expect(during[0]!.verifiedBy.sort()).toEqual([endpoint.secret, rotated.body.secret].sort());

    const now = await api.request('POST', `${base}/rotate-secret`, { token: coop.admin, body: { graceSeconds: 0 }, headers: { 'idempotency-key': randomUUID() } });
    expect(now.body.previousSecretExpiresAt).toBeNull();
    receiver.secrets.push(now.body.secret);
    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    const after = await eventually(async () => received(coop).filter((d) => d.body.type === 'cloud.transferred'), (d) => d.length === 2);
    expect(after[1]!.verifiedBy).toEqual([now.body.secret]);
  });

  it('queues nothing for a disabled endpoint, and delivers again once it is enabled', async () => {
    const coop = await cooperative(2);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    const endpoint = await register(coop, ['cloud.transferred']);
    await fund(coop, alice, 3_000_000n);
    const base = `/v1/cooperatives/${coop.id}/webhook-endpoints/${endpoint.id}`;
    const disabled = await api.request('POST', `${base}/disable`, { token: coop.admin });
    expect([disabled.status, disabled.body.status]).toEqual([200, 'disabled']);
    expect((await api.request('POST', `${base}/disable`, { token: coop.admin })).body.status).toBe('disabled');

    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    const whileDisabled = await lastSequence(coop);
    await eventually(async () => (await api.pool.query('SELECT published_at FROM outbox WHERE id = $1', [whileDisabled])).rows[0].published_at, (at) => at !== null);
    expect((await api.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [endpoint.id])).rows[0].n).toBe(0);

    expect((await api.request('POST', `${base}/enable`, { token: coop.admin })).body.status).toBe('active');
    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    const got = await eventually(async () => received(coop), (d) => d.length >= 1);
    expect(got.map((d) => d.body.sequence)).toEqual([String(await lastSequence(coop))]);
  });

  it('refuses what it should: other cooperatives, members, bad URLs and event types, unknown endpoints', async () => {
    const [coop, other] = [await cooperative(1), await cooperative(0)];
    const path = `/v1/cooperatives/${coop.id}/webhook-endpoints`;
    const post = (token: string, body: unknown) => api.request('POST', path, { token, body, headers: { 'idempotency-key': randomUUID() } });
    expect((await post(other.admin, { url: receiver.url, eventTypes: ['*'] })).status).toBe(403);
    expect((await post(coop.members[0]!.token, { url: receiver.url, eventTypes: ['*'] })).status).toBe(403);
    for (const body of [
      { url: 'ftp://example.org/x', eventTypes: ['*'] }, { url: 'https://user:pw@example.org/x', eventTypes: ['*'] }, { url: 'not a url', eventTypes: ['*'] },
      { url: `https://example.org/${'x'.repeat(2100)}`, eventTypes: ['*'] }, { url: receiver.url, eventTypes: [] }, { url: receiver.url, eventTypes: ['cloud.nope'] },
      { url: receiver.url, eventTypes: ['*', 'cloud.minted'] }, { url: receiver.url, eventTypes: ['cloud.minted', 'cloud.minted'] }, { url: receiver.url, eventTypes: ['*'], extra: 1 },
    ]) {
      expect({ body, status: (await post(coop.admin, body)).status }).toEqual({ body, status: 400 });
    }
    const key = randomUUID();
    const first = await api.request('POST', path, { token: coop.admin, body: { url: receiver.url, eventTypes: ['*'] }, headers: { 'idempotency-key': key } });
    const again = await api.request('POST', path, { token: coop.admin, body: { url: receiver.url, eventTypes: ['*'] }, headers: { 'idempotency-key': key } });
    expect([first.status, again.status, again.body.id, again.body.secret]).toEqual([201, 200, first.body.id, first.body.secret]);
    expect((await api.request('POST', path, { token: coop.admin, body: { url: receiver.url, eventTypes: ['cloud.minted'] }, headers: { 'idempotency-key': key } })).status).toBe(422);
    expect((await api.request('GET', `${path}/${randomUUID()}`, { token: coop.admin })).status).toBe(404);
    expect((await api.request('POST', `${path}/${randomUUID()}/disable`, { token: coop.admin })).status).toBe(404);
    expect((await api.request('GET', `/v1/cooperatives/${other.id}/webhook-endpoints/${first.body.id}`, { token: other.admin })).status).toBe(404);
  });

  it('hands a delivery that keeps failing to the dead-letter queue, goes on with the others, and an operator retry delivers it once', async () => {
    const coop = await cooperative(2);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    const endpoint = await register(coop, ['cloud.transferred']);
    await fund(coop, alice, 3_000_000n);
    // The receiver refuses the first transfer (1 CLOUD) until told otherwise, and takes the second (2 CLOUD).
    let refusing = true;
    const refused = (d: ReceivedDelivery) => d.body.cooperativeId === coop.id && d.body.data.amount === '1';
    receiver.answer = (d) => (refused(d) && refusing ? 500 : 204);
    try {
      expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
      expect((await transfer(coop, alice, bob, '2')).status).toBe(201);
      const operatorGet = (path: string) => api.request('GET', path, { token: operator });
      const item = await eventually(
        async () => (await operatorGet(`/v1/operations/dlq?operationType=webhook_delivery&cooperativeId=${coop.id}`)).body.items[0],
        (i) => i?.status === 'manual_review',
      );
      const { rows: [delivery] } = await api.pool.query(`SELECT d.id::text AS id, d.status, d.attempts FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.endpoint_id = $1 AND o.payload->>'amount' = '1'`, [endpoint.id]);
      expect(item).toMatchObject({ businessKey: `webhook_delivery:${delivery.id}`, attempts: 3, lastError: expect.stringContaining('HTTP 500'), payload: { deliveryId: delivery.id, cooperativeId: coop.id } });
      expect(delivery).toMatchObject({ status: 'dead_lettered', attempts: 6 });
      // Three quick attempts by the endpoint's workflow, three by the queue; the 2 CLOUD transfer went out once the first was handed over.
      const attempts = received(coop).filter(refused);
      expect(attempts.map((d) => [d.attempt, d.status])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, 500]));
      const second = received(coop).findIndex((d) => d.body.data.amount === '2');
      expect(second).toBeGreaterThan(received(coop).indexOf(attempts[2]!));
      expect(received(coop)[second]!.status).toBe(204);

      refusing = false;
      const retried = await api.request('POST', `/v1/operations/dlq/${item.id}/retry`, { token: operator, body: { note: 'receiver fixed' } });
      expect([retried.status, retried.body.status]).toEqual([200, 'succeeded']);
      const accepted = received(coop).filter((d) => refused(d) && d.status === 204);
      expect(accepted.map((d) => [d.eventId, d.attempt])).toEqual([[attempts[0]!.eventId, 7]]);
      expect((await api.pool.query('SELECT status FROM webhook_deliveries WHERE id = $1', [delivery.id])).rows[0].status).toBe('delivered');
    } finally {
      receiver.answer = () => 204;
    }
  });

  it('keeps listening when the database drops its connection, and catches up at once', async () => {
    const coop = await cooperative(2);
    const [alice, bob] = coop.members as [Coop['members'][0], Coop['members'][0]];
    await register(coop, ['cloud.transferred']);
    await fund(coop, alice, 3_000_000n);
    const relayBackends = `SELECT pid FROM pg_stat_activity WHERE application_name = 'coop-credits-outbox-relay'`;
    const { rows: killed } = await api.pool.query(`SELECT pg_terminate_backend(pid) FROM (${relayBackends}) r`);
    expect(killed.length).toBeGreaterThanOrEqual(1);
    // Committed while nobody listens: the relay publishes it when it has listened again.
    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    await eventually(async () => received(coop).length, (n) => n === 1);
    expect((await api.pool.query(relayBackends)).rows.length).toBeGreaterThanOrEqual(1);
    expect((await transfer(coop, alice, bob, '1')).status).toBe(201);
    await eventually(async () => received(coop).length, (n) => n === 2);
  });

  it('the outbox sweep wakes an endpoint whose delivery was published and never woken', async () => {
    const coop = await cooperative(1);
    const endpoint = await register(coop, ['cloud.burned']);
    // Written as the relay writes it, without the wake-up, as when a worker dies between the two; a day
    // old, and swept for an instant 12 hours back, so that this sweep wakes this endpoint only.
    await api.pool.query(
      `WITH o AS (INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload, published_at) VALUES ($1, 'cloud.burned', 'stranded', '{}', now()) RETURNING id)
       INSERT INTO webhook_deliveries (cooperative_id, endpoint_id, outbox_id, created_at) SELECT $1, $2, id, now() - interval '1 day' FROM o`,
      [coop.id, endpoint.id],
    );
    const swept = (await api.temporal.workflow.execute('scheduledJob', {
      taskQueue: api.config.temporal.taskQueue, workflowId: `outbox-sweep-${randomUUID()}`, args: [{ job: 'outbox-sweep', scheduledFor: new Date(Date.now() - 12 * 3600_000).toISOString() }],
    })) as ScheduledJobResult;
    expect(swept.detail.woken).toBe(1);
    const got = await eventually(async () => received(coop), (d) => d.length === 1);
    expect(got[0]!.body).toMatchObject({ type: 'cloud.burned', aggregateId: 'stranded' });
  });

  it('loses nothing when the worker is killed mid-stream and comes back', async () => {
    const coop = await cooperative(4);
    const members = coop.members;
    const baseline = await lastSequence(coop);
    await register(coop);
    // From here the worker runs like production's (workers/main.ts under the restarting supervisor, relay included), on a queue of its own.
    await worker?.stop();
    worker = undefined;
    const taskQueue = `webhooks-restart-${randomUUID().slice(0, 8)}`;
    const log: string[] = [];
    const supervised = keepRunning(
      'worker',
      () => spawn(process.execPath, [path.join(__dirname, '../harness/worker-process.js')], { env: { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue, WORKER_METRICS_PORT: '0', WORKER_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE, DATABASE_URL: process.env.DATABASE_APP_URL, LOG_LEVEL: 'error', WORKER_SCHEDULES: 'false' }, stdio: 'ignore' }),
      (line) => log.push(line),
      { initialBackoffMs: 200, maxBackoffMs: 1_000, stableAfterMs: 60_000 },
    );
    try {
      // The stream is transfers from four senders, so four aggregates.
      for (const m of members) await fund(coop, m, 100_000_000n);
      const stream = async (n: number) => {
        for (let i = 0; i < n; i++) expect((await transfer(coop, members[i % 4]!, members[(i + 1) % 4]!, '0.1')).status).toBe(201);
      };
      await stream(15);
      await eventually(async () => received(coop).length, (n) => n >= 5);
      supervised.current()!.kill('SIGKILL');
      await stream(15);

      const expected = await outboxEvents(coop, baseline);
      expect(expected).toHaveLength(4 + 30);
      const got = await eventually(async () => received(coop), (d) => new Set(d.map((x) => x.eventId)).size >= expected.length, 90_000);
      expect([...new Set(got.map((d) => d.eventId))].sort()).toEqual(expected.map((e) => e.event_id).sort());
      expect(firstArrivals(got)).toEqual(inOutboxOrder(expected));
      expect(got.every((d) => d.verifiedBy.length === 1)).toBe(true);
      expect(supervised.restarts()).toBeGreaterThanOrEqual(1);
      expect(log.some((l) => /worker exited unexpectedly \(SIGKILL\)/.test(l))).toBe(true);
    } finally {
      await supervised.stop('SIGTERM', 10_000);
    }
  }, 150_000);
});
