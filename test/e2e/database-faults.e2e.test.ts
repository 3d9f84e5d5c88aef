import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Stripe from 'stripe';
import * as ledger from '../../db/ledger';
import { enableAppLogin, migrate } from '../../db/migrate';
import { APP_PASSWORD, asApplication } from '../harness/database-roles';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../scripts/embedded-postgres';
import { freePort } from '../../scripts/ports';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * PostgreSQL fails while purchases and transfers run: a backend killed (the server terminates every
 * connection and recovers), a fast restart, and the database unreachable for 30 s. The API and worker
 * processes live on, answer 503 while it is gone (readiness says so), a client retrying with its key
 * loses nothing and gets nothing twice, and every workflow completes afterwards.
 */
describe('database faults', () => {
  const dataDir = path.join(process.env.TEST_STATE_DIR ?? '.state/test', `faults-${randomUUID().slice(0, 8)}`);
  const taskQueue = `faults-${randomUUID().slice(0, 8)}`;
  let port: number;
  let pg: EmbeddedPostgres;
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let members: Array<{ id: string; token: string }>;
  const stripe = new Stripe('sk_test_unused');

  const startPostgres = () => startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port, database: 'faults', logFile: path.join(dataDir, 'postgres.log'), log: () => undefined });

  beforeAll(async () => {
    // A free port can be taken by another process before PostgreSQL binds it: try another.
    for (let attempt = 1; !pg; attempt++) {
      port = await freePort();
      pg = await startPostgres().catch((err: unknown) => {
        if (attempt >= 3) throw err;
        return undefined as unknown as EmbeddedPostgres;
      });
    }
    await migrate(pg.url, 'up');
    await enableAppLogin(pg.url, APP_PASSWORD);
    const env = { DATABASE_URL: asApplication(pg.url), DATABASE_OWNER_URL: pg.url, TEMPORAL_TASK_QUEUE: taskQueue };
    [api, worker] = await Promise.all([startTestApi(env), startTestWorker({ env })]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `faults-${randomUUID().slice(0, 8)}`, name: 'Faults' } })).body.id;
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    members = [];
    for (let i = 0; i < 2; i++) {
      const id = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
      members.push({ id, token: await api.token({ subject: id, role: 'member', cooperativeId: coop }) });
    }
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: members[0]!.id, amount: cloud(1000), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'faults-seed' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
    await pg?.stop();
  });

  /** What a careful client does: retry a 503, a 429 or a broken connection with the same request and key, until it is answered. */
  async function untilAnswered(send: () => Promise<{ status: number; body: any }>): Promise<{ status: number; body: any; retried: number }> {
    for (let retried = 0; ; retried++) {
      const res = await send().catch(() => ({ status: 0, body: undefined }));
      if (res.status !== 0 && res.status !== 503 && res.status !== 429) return { ...res, retried };
      if (retried > 600) throw new Error(`still ${res.status} after ${retried} retries`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Purchases paid by webhook and transfers, each retried until answered; resolves with what was asked. */
  async function workload(label: string, count: number) {
    const [alice, bob] = members;
    const transfers = Array.from({ length: count }, (_, i) => ({ key: `${label}-t-${i}`, amount: '0.5' }));
    const purchases = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const key = `${label}-p-${i}`;
        const created = await untilAnswered(() => api.request('POST', '/v1/credit-purchases', { token: bob!.token, body: { amount: '1' }, headers: { 'idempotency-key': key } }));
        expect([200, 201]).toContain(created.status);
        // The payment may still be in the making after a long outage: the replay with the same key answers once it exists.
        let purchase = created.body;
        while (!purchase.paymentIntentId) purchase = (await untilAnswered(() => api.request('POST', '/v1/credit-purchases', { token: bob!.token, body: { amount: '1' }, headers: { 'idempotency-key': key } }))).body;
        const payload = JSON.stringify({ id: `evt_${label}_${i}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: purchase.paymentIntentId, object: 'payment_intent' } } });
        const paid = await untilAnswered(() => api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } }));
        expect(paid.status).toBe(200);
        return purchase.paymentIntentId as string;
      }),
    );
    const sent = await Promise.all(
      transfers.map((t) => untilAnswered(() => api.request('POST', `/v1/cooperatives/${coop}/transfers`, { token: alice!.token, body: { toMemberId: bob!.id, amount: t.amount }, headers: { 'idempotency-key': t.key } }))),
    );
    expect(sent.map((s) => s.status).every((s) => s === 200 || s === 201)).toBe(true);
    return { purchases, transferKeys: transfers.map((t) => t.key) };
  }

  /** Every purchase minted once and every transfer applied once, eventually; the ledger is whole. */
  async function expectNothingLostOrDoubled(asked: { purchases: string[]; transferKeys: string[] }) {
    const deadline = Date.now() + 150_000;
    const mints = async () => (await api.pool.query(`SELECT metadata->>'sourceId' AS pi, count(*)::int AS n FROM transactions WHERE cooperative_id = $1 AND type = 'mint' AND metadata->>'sourceId' = ANY($2) GROUP BY 1`, [coop, asked.purchases])).rows;
    while ((await mints()).length < asked.purchases.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect((await mints()).map((r) => [r.pi, r.n]).sort()).toEqual(asked.purchases.map((pi) => [pi, 1]).sort());
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE cooperative_id = $1 AND type = 'transfer' AND idempotency_key LIKE ANY($2)`, [coop, asked.transferKeys.map((k) => `client:%:${k}`)]);
    expect(rows[0].n).toBe(asked.transferKeys.length);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  }

  it('survives a killed backend while purchases and transfers run', async () => {
    const running = workload('kill', 6);
    await new Promise((r) => setTimeout(r, 150));
    const { rows } = await api.pool.query(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() LIMIT 1`);
    // SIGKILL of one backend makes PostgreSQL end every connection and recover.
    expect(rows).toHaveLength(1);
    process.kill(rows[0].pid, 'SIGKILL');
    await expectNothingLostOrDoubled(await running);
    expect((await api.request('GET', '/readyz')).status).toBe(200);
  }, 200_000);

  it('survives a fast restart', async () => {
    const running = workload('restart', 6);
    await new Promise((r) => setTimeout(r, 150));
    await pg.stop();
    pg = await startPostgres();
    await expectNothingLostOrDoubled(await running);
  }, 200_000);

  it('answers 503 and reports the outage while the database is unreachable for 30 s, then completes everything', async () => {
    const running = workload('outage', 4);
    await new Promise((r) => setTimeout(r, 150));
    await pg.stop();
    const during = await api.request('GET', `/v1/cooperatives/${coop}/members/${members[0]!.id}/balance`, { token: members[0]!.token });
    expect([during.status, during.body.error.code, Number(during.headers.get('retry-after')) > 0]).toEqual([503, 'SERVICE_UNAVAILABLE', true]);
    const ready = await api.request('GET', '/readyz');
    expect([ready.status, ready.body.checks.postgres]).toEqual([503, expect.stringMatching(/^failing/)]);
    await new Promise((r) => setTimeout(r, 30_000));
    pg = await startPostgres();
    await expectNothingLostOrDoubled(await running);
    expect((await api.request('GET', '/readyz')).status).toBe(200);
  }, 300_000);
});
