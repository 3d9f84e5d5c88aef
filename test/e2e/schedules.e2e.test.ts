import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, ServiceError, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import * as ledger from '../../db/ledger';
import type { ScheduledJobResult } from '../../domain/scheduled-jobs';
import { ensureSchedules, SCHEDULES, type ScheduleDefinition } from '../../workers/schedules';
import { eventually } from '../harness/eventually';
import { cloud, randomAddress } from '../harness/ledger';
import { Client } from 'pg';
import { enableAppLogin, migrate } from '../../db/migrate';
import { APP_PASSWORD, asApplication } from '../harness/database-roles';
import { startTestApi, startTestWorker, testConfig, type TestApi, type TestWorker } from '../harness/stack';

const DAY = 86_400_000;

/**
 * The recurring jobs as Temporal runs them: schedules created at worker start, fired by the schedule
 * (a trigger or a backfill stands in for the clock), each run a `scheduledJob` workflow on the real worker.
 * The jobs span the whole network, so this file has a database and a task queue of its own: its runs
 * see only its cooperatives, not the hundreds the rest of the suite makes meanwhile, and no other
 * file's worker takes them.
 */
describe('scheduled jobs', () => {
  let api: TestApi;
  let worker: TestWorker;
  let operator: string;
  let coop: string;
  let service: string;
  let alice: string;
  const schedule = (id: string): ScheduleHandle => api.temporal.schedule.getHandle(id);
  const taskQueue = () => api.config.temporal.taskQueue;

  const base = new URL(testConfig().database.url);
  const database = `schedules_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const ownerUrl = Object.assign(new URL(base), { pathname: `/${database}` }).toString();
  const own = { DATABASE_URL: asApplication(ownerUrl), DATABASE_OWNER_URL: ownerUrl, TEMPORAL_TASK_QUEUE: `schedules-${randomUUID()}` };

  beforeAll(async () => {
    const server = new Client({ connectionString: base.toString() });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`).finally(() => server.end());
    await migrate(ownerUrl, 'up');
    await enableAppLogin(ownerUrl, APP_PASSWORD);
    [api, worker] = await Promise.all([startTestApi(own), startTestWorker({ env: own })]);
    operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `sched-${randomUUID().slice(0, 8)}`, name: 'Schedules' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
    alice = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'grant', sourceId: `grant-${randomUUID()}`, idempotencyKey: 'seed' });
    await ensureSchedules(api.temporal, taskQueue());
  });
  afterAll(async () => {
    // The schedules fire every minute: they must not outlive this file on the run's shared server.
    await Promise.all(SCHEDULES.map((s) => schedule(s.id).delete().catch(() => undefined)));
    await Promise.all([api?.close(), worker?.stop()]);
    const server = new Client({ connectionString: base.toString() });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => server.end());
  });

  /**
   * Describes a schedule for a polling loop, again when the call timed out: describing queries the
   * schedule's own workflow on the server, which a server busy with the rest of the suite can answer late.
   */
  async function described(handle: ScheduleHandle): Promise<ScheduleDescription> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await handle.describe();
      } catch (err) {
        const timedOut = err instanceof ServiceError && (err.cause as { code?: number } | undefined)?.code === 4; // gRPC DEADLINE_EXCEEDED
        if (!timedOut || attempt === 3) throw err;
      }
    }
  }

  /**
   * Pauses the minutely hold expiry so that only the test's own runs expire holds. A run already going is
   * for an instant before the pause, so it cannot expire a hold made after it; a test that plants a hold
   * due earlier waits that run out.
   */
  async function withoutHoldExpiry(work: () => Promise<void>, options: { waitOutRunning?: boolean } = {}): Promise<void> {
    await schedule('hold-expiry').pause('a test runs hold expiry itself');
    try {
      if (options.waitOutRunning) await eventually(async () => (await described(schedule('hold-expiry'))).info.runningActions.length, (n) => n === 0, 150_000);
      await work();
    } finally {
      await schedule('hold-expiry').unpause();
    }
  }

  /** Waits for the run the schedule started for `scheduledAt` (or its latest) and returns what it did. */
  async function runOf(handle: ScheduleHandle, took: (scheduledAt: Date) => boolean): Promise<ScheduledJobResult[]> {
    const actions = await eventually(async () => (await described(handle)).info.recentActions.filter((a) => took(a.scheduledAt)), (a) => a.length > 0);
    return Promise.all(actions.map((a) => api.temporal.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId).result() as Promise<ScheduledJobResult>));
  }

  it('creates every schedule as defined, leaves an unchanged one alone and updates a changed one without undoing a pause', async () => {
    for (const def of SCHEDULES) {
      const d = await schedule(def.id).describe();
      expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'scheduledJob', taskQueue: taskQueue(), args: [{ job: def.job }] });
      expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    }
    const before = (await schedule('lot-expiry').describe()).info.lastUpdatedAt?.getTime() ?? null;
    await ensureSchedules(api.temporal, taskQueue());
    expect((await schedule('lot-expiry').describe()).info.lastUpdatedAt?.getTime() ?? null).toBe(before);

    await schedule('ledger-reconciliation').pause('paused by the test');
    const moved: ScheduleDefinition[] = SCHEDULES.map((s) => (s.id === 'ledger-reconciliation' ? { ...s, spec: { calendars: [{ hour: 1, minute: 15 }] } } : s));
    await ensureSchedules(api.temporal, taskQueue(), undefined, moved);
    const changed = await schedule('ledger-reconciliation').describe();
    expect(changed.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 1, end: 1, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });
    expect(changed.state.paused).toBe(true);

    await ensureSchedules(api.temporal, taskQueue());
    const restored = await schedule('ledger-reconciliation').describe();
    expect(restored.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    expect(restored.state.paused).toBe(true);
    await schedule('ledger-reconciliation').unpause();
  });

  it('expires a hold when the hold-expiry schedule fires, and gives its credits back', async () => {
    const hold = await api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, body: { memberId: alice, amount: '4', ttlSeconds: 1 }, headers: { 'idempotency-key': randomUUID() } });
    expect(hold.status).toBe(201);
    const balance = async () => (await api.request('GET', `/v1/cooperatives/${coop}/members/${alice}/balance`, { token: service })).body;
    expect(await balance()).toMatchObject({ available: '6', held: '4' });
    // A run is for its scheduled instant, which Temporal gives to the second: wait until the hold was due
    // before the current second began, then fire the schedule.
    await eventually(async () => (await api.pool.query<{ due: boolean }>(`SELECT expires_at < date_trunc('second', now()) AS due FROM holds WHERE id = $1`, [hold.body.id])).rows[0]!.due, (due) => due);
    const triggeredAt = Date.now();
    // Allowed beside a minutely run still going.
    await schedule('hold-expiry').trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    // Some run at or after the trigger expired it (a minutely run may have got there first).
    await runOf(schedule('hold-expiry'), (at) => at.getTime() >= triggeredAt - 1000);
    await eventually(async () => (await api.pool.query<{ status: string }>('SELECT status FROM holds WHERE id = $1', [hold.body.id])).rows[0]!.status, (s) => s === 'expired');
    expect(await balance()).toMatchObject({ available: '10', held: '0' });
    const { rows } = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'cloud.released'`, [coop]);
    expect(rows.map((r) => r.payload)).toEqual([expect.objectContaining({ holdId: hold.body.id, amount: '4', outcome: 'expired' })]);
  });

  it('expires a lot and a hold in runs for chosen instants, only once they are due, each once', async () => {
    await withoutHoldExpiry(async () => {
      // Runs for chosen instants, as a backfill makes them, stand in for the clock (a month back for the
      // lot). Narrowed to this cooperative, they touch no other test's holds or lots.
      const run = (job: 'hold-expiry' | 'lot-expiry', at: number) =>
        api.temporal.workflow.execute('scheduledJob', { workflowId: `${job}-by-hand-${randomUUID()}`, taskQueue: taskQueue(), args: [{ job, cooperativeId: coop, scheduledFor: new Date(at).toISOString() }] }) as Promise<ScheduledJobResult>;
      const member = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop }), body: { address: randomAddress() } })).body.id;
      const start = Date.now() - 31 * DAY;
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: member, amount: cloud(3), source: 'grant', sourceId: `g-${randomUUID()}`, expiresAt: new Date(start + 30 * DAY), idempotencyKey: 'month' });
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: member, amount: cloud(5), source: 'grant', sourceId: `g-${randomUUID()}`, idempotencyKey: 'lasting' });
      const { hold } = await ledger.reserveHold(api.pool, { cooperativeId: coop, memberId: member, amount: cloud(1), ttlSeconds: 1, idempotencyKey: 'second' });
      const holdDue = Date.parse(hold.expiresAt);
      await eventually(async () => Date.now(), (now) => now > holdDue);

      expect(await run('hold-expiry', holdDue - 1)).toEqual({ status: 'completed', detail: { expired: 0 } });
      expect(await run('hold-expiry', holdDue)).toEqual({ status: 'completed', detail: { expired: 1 } });
      expect(await run('hold-expiry', holdDue)).toEqual({ status: 'completed', detail: { expired: 0 } });
      expect(await run('lot-expiry', start + 30 * DAY - 1)).toEqual({ status: 'completed', detail: { expired: 0 } });
      expect(await run('lot-expiry', start + 30 * DAY)).toEqual({ status: 'completed', detail: { expired: 1 } });
      expect(await run('lot-expiry', Date.now())).toEqual({ status: 'completed', detail: { expired: 0 } });
      expect(await ledger.memberBalance(api.pool, coop, member)).toMatchObject({ wallet: cloud(5), available: cloud(5), held: 0n });
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
      // An instant that has not come yet would expire credits early: refused.
      await expect(run('lot-expiry', Date.now() + DAY)).rejects.toThrow(/workflow execution failed/i);
      // A job that spans the network is not narrowed to one cooperative: the run fails rather than doing it all.
      await expect(
        api.temporal.workflow.execute('scheduledJob', { workflowId: `narrowed-${randomUUID()}`, taskQueue: taskQueue(), args: [{ job: 'ledger-reconciliation', cooperativeId: coop }] }),
      ).rejects.toThrow(/workflow execution failed/i);
    });
  });

  // It may wait out a hold-expiry run first: time on a busy machine.
  it('reconciles a scheduled instant once however often it runs, finds planted inconsistencies and raises an alert', async () => {
    // Nothing may heal the planted open hold while this runs.
    await withoutHoldExpiry(async () => {
      const instant = new Date(Date.UTC(2026, 0, 15, 0, 30));
      // 1. A hold left open long past its expiry.
      const hold = await api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, body: { memberId: alice, amount: '1', ttlSeconds: 600 }, headers: { 'idempotency-key': randomUUID() } });
      await api.pool.query(`UPDATE holds SET expires_at = $2 WHERE id = $1`, [hold.body.id, new Date(instant.getTime() - 86_400_000)]);
      // 2. Paid credits minted with no purchase behind them, and a payment Stripe reported succeeded that was never minted.
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice, amount: cloud(1), source: 'purchase', sourceId: `pi_orphan_${randomUUID()}`, idempotencyKey: 'orphan' });
      const purchaseId = randomUUID();
      await api.pool.query(
        `INSERT INTO credit_purchases (id, cooperative_id, member_id, amount, amount_cents, idempotency_key, request_hash, status, payment_intent_id)
         VALUES ($1, $2, $3, 1000000, 1000, $4, 'x', 'awaiting_payment', $5)`,
        [purchaseId, coop, alice, `client:planted-${purchaseId}`, `pi_unminted_${purchaseId}`],
      );
      await api.pool.query(`INSERT INTO stripe_events (id, type, purchase_id, payload, received_at) VALUES ($1, 'payment_intent.succeeded', $2, '{}', $3)`, [
        `evt_${purchaseId}`, purchaseId, new Date(instant.getTime() - 2 * 3_600_000),
      ]);

      // 3. A wallet whose lots no longer add up to its ledger balance (written around the triggers, as only a bug or a hand could; last, as the wallet takes no more writes).
      const wallet = await api.pool.connect();
      try {
        await wallet.query("SET session_replication_role = 'replica'");
        await wallet.query(`UPDATE lots SET available = available - 1000, consumed = consumed + 1000 WHERE id = (SELECT id FROM lots WHERE member_id = $1 AND available > 1000 LIMIT 1)`, [alice]);
      } finally {
        await wallet.query("SET session_replication_role = 'origin'");
        wallet.release();
      }
      // The instant backfilled (twice: Temporal starts its run once), then run again by hand as an operator
      // might: one reconciliation.
      const reconciliation = schedule('ledger-reconciliation');
      const window = { start: new Date(instant.getTime() - 60_000), end: new Date(instant.getTime() + 60_000), overlap: ScheduleOverlapPolicy.ALLOW_ALL };
      await reconciliation.backfill(window);
      await reconciliation.backfill(window);
      const [scheduled] = await runOf(reconciliation, (at) => at.getTime() === instant.getTime());
      const byHand = await api.temporal.workflow.execute('scheduledJob', {
        workflowId: `ledger-reconciliation-by-hand-${randomUUID()}`, taskQueue: taskQueue(), args: [{ job: 'ledger-reconciliation', scheduledFor: instant.toISOString() }],
      }) as ScheduledJobResult;
      const results = [scheduled!, byHand];
      expect(results.map((r) => r.status)).toEqual(['failed', 'failed']);
      expect(results[0]!.detail.runId).toBe(results[1]!.detail.runId);
      const runId = results[0]!.detail.runId as string;
      expect((await api.pool.query('SELECT count(*)::int AS n FROM reconciliation_runs WHERE run_key = $1', [`ledger:${instant.toISOString()}`])).rows[0].n).toBe(1);

      // Operators read it; one bound to this cooperative sees this cooperative's findings only.
      const list = await api.request('GET', '/v1/operations/reconciliations?kind=ledger&status=failed&limit=100', { token: operator });
      expect(list.status).toBe(200);
      expect(list.body.items.find((r: { id: string }) => r.id === runId)).toMatchObject({ scheduledFor: instant.toISOString(), status: 'failed' });
      const bound = await api.token({ subject: 'op-bound', role: 'operator', cooperativeId: coop });
      const detail = await api.request('GET', `/v1/operations/reconciliations/${runId}`, { token: bound });
      expect(detail.status).toBe(200);
      expect(detail.body.checks.map((c: { name: string; passed: boolean }) => [c.name, c.passed])).toEqual([
        ['entries_balance_per_currency', true],
        ['lots_add_up_and_wallets_equal_lots', false],
        ['no_hold_open_past_expiry', false],
        ['payments_match_mints', false],
        ['clearing_nets_to_zero', true],
      ]);
      expect(detail.body.findings.every((f: { cooperativeId: string }) => f.cooperativeId === coop)).toBe(true);
      // Its counts are this cooperative's: other cooperatives' results do not show through the totals.
      expect(detail.body.findingCount).toBe(detail.body.findings.length);
      expect(detail.body.checks.reduce((n: number, c: { findings: number }) => n + c.findings, 0)).toBe(detail.body.findings.length);
      // An operator bound to another cooperative lists neither this cooperative's runs nor the network's.
      const otherCoop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `elsewhere-${randomUUID().slice(0, 8)}`, name: 'Elsewhere' } })).body.id as string;
      const elsewhere = await api.token({ subject: 'op-elsewhere', role: 'operator', cooperativeId: otherCoop });
      expect((await api.request('GET', `/v1/operations/reconciliations?cooperativeId=${coop}`, { token: elsewhere })).status).toBe(403);
      const theirs = await api.request('GET', '/v1/operations/reconciliations?limit=100', { token: elsewhere });
      expect(theirs.status).toBe(200);
      expect(theirs.body.items.find((r: { id: string }) => r.id === runId)).toBeUndefined();
      expect(new Set(detail.body.findings.map((f: { check: string }) => f.check))).toEqual(
        new Set(['wallet_equals_lots', 'no_open_hold_past_expiry', 'purchase_lot_has_one_payment', 'succeeded_payment_minted']),
      );
      const alerts = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'reconciliation.alert'`, [coop]);
      expect(alerts.rows.map((r) => r.payload)).toEqual([expect.objectContaining({ runId, findings: 4 })]);
      expect((await api.request('GET', `/v1/operations/reconciliations/${randomUUID()}`, { token: operator })).status).toBe(404);
      expect((await api.request('GET', '/v1/operations/reconciliations', { token: service })).status).toBe(403);
    }, { waitOutRunning: true });
  }, 240_000);
});
