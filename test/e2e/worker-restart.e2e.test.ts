import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Stripe from 'stripe';
import * as ledger from '../../db/ledger';
import { keepRunning } from '../../scripts/restarting-process';
import { randomAddress } from '../harness/ledger';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * The worker runs the way `npm start` runs it: a child process kept running by the restarting
 * supervisor. Killed with SIGKILL while purchases are in flight, it comes back by itself and every
 * purchase mints exactly once.
 */
describe('a killed worker comes back by itself', () => {
  const taskQueue = `restart-${randomUUID().slice(0, 8)}`;
  const log: string[] = [];
  let api: TestApi;
  let worker: ReturnType<typeof keepRunning>;

  beforeAll(async () => {
    api = await startTestApi({ TEMPORAL_TASK_QUEUE: taskQueue });
    // No outbox relay in it: on a queue of its own beside other files' workers, it would start their webhook deliveries on its queue.
    worker = keepRunning(
      'worker',
      () => spawn(process.execPath, [path.join(__dirname, '../harness/worker-process.js')], { env: { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue, WORKER_METRICS_PORT: '0', WORKER_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE, DATABASE_URL: process.env.DATABASE_APP_URL, LOG_LEVEL: 'error', WORKER_SCHEDULES: 'false', WORKER_OUTBOX_RELAY: 'false' }, stdio: 'ignore' }),
      (line) => log.push(line),
      { initialBackoffMs: 200, maxBackoffMs: 1_000, stableAfterMs: 60_000 },
    );
  });
  afterAll(async () => {
    await worker?.stop('SIGTERM', 10_000);
    await api?.close();
  });

  it('mints every purchase exactly once after a SIGKILL mid-purchase, without a manual step', async () => {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `restart-${randomUUID().slice(0, 8)}`, name: 'Restart' } })).body.id as string;
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const memberId = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
    const member = await api.token({ subject: memberId, role: 'member', cooperativeId: coop });

    const purchases = [];
    for (let i = 0; i < 6; i++) {
      const res = await api.request('POST', '/v1/credit-purchases', { token: member, body: { amount: '1' }, headers: { 'idempotency-key': randomUUID() } });
      expect(res.body.paymentIntentId).toMatch(/^pi_/);
      purchases.push(res.body as { id: string; paymentIntentId: string });
    }
    const stripe = new Stripe('sk_test_unused');
    const pay = (pi: string) => {
      const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: pi, object: 'payment_intent' } } });
      return api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } });
    };
    // Half are paid, the worker is killed while it mints them, then the rest are paid while it is down or restarting.
    await Promise.all(purchases.slice(0, 3).map((p) => pay(p.paymentIntentId)));
    worker.current()!.kill('SIGKILL');
    await Promise.all(purchases.slice(3).map((p) => pay(p.paymentIntentId)));

    const deadline = Date.now() + 60_000;
    const minted = async () => (await api.pool.query(`SELECT metadata->>'sourceId' AS pi FROM transactions WHERE cooperative_id = $1 AND type = 'mint'`, [coop])).rows.map((r) => r.pi as string);
    while ((await minted()).length < purchases.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await minted()).sort()).toEqual(purchases.map((p) => p.paymentIntentId).sort());
    expect(worker.restarts()).toBeGreaterThanOrEqual(1);
    expect(log.some((l) => /worker exited unexpectedly \(SIGKILL\); restarting it in/.test(l))).toBe(true);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  }, 120_000);
});
