import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { stakeState, type StakeState } from '../../workflows/stake';
import { eventually } from '../harness/eventually';
import { cloud, randomAddress } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/**
 * Staking positions through the real API with production lock terms (up to 365 days), held by their
 * stake:<positionId> workflows on the time-skipping test server: the real worker releases them on the
 * run's PostgreSQL. Instants come from the test server's clock and the positions' own unlock instants,
 * never from this machine's clock (the server's jumps ahead when a workflow completes).
 */
describe('staking positions in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  let coop: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startTimeSkippingStack({ api: true, restartableWorkers: true });
    api = stack.api!;
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `vstake-${randomUUID().slice(0, 8)}`, name: 'Stakers' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    // The default lengths and multipliers; the 30-day term waits for its member at unlock.
    const terms = [
      { days: 30, multiplierBasisPoints: 10_000, autoRelease: false },
      { days: 90, multiplierBasisPoints: 12_500, autoRelease: true },
      { days: 365, multiplierBasisPoints: 20_000, autoRelease: true },
    ];
    expect((await api.request('PUT', `/v1/cooperatives/${coop}/staking-terms`, { token: admin, body: { terms } })).status).toBe(200);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function member(paid: number, expiresAt: Date | null = null): Promise<{ id: string; token: string; lotId: string }> {
    const id = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
    const minted = await ledger.mint(stack.pool, { cooperativeId: coop, memberId: id, amount: cloud(paid), source: 'purchase', sourceId: `pi_${randomUUID()}`, expiresAt, idempotencyKey: `buy-${randomUUID()}` });
    return { id, token: await api.token({ subject: id, role: 'member', cooperativeId: coop }), lotId: minted.transaction.metadata.lotId as string };
  }

  /** Stakes through the API, which starts the lock on its clock: here the test server's. */
  async function stake(m: { token: string }, amount: string, termDays: number): Promise<{ id: string; stakedAt: number; unlocksAt: number }> {
    const res = await stack.onVirtualClock(() => api.request('POST', `/v1/cooperatives/${coop}/stakes`, { token: m.token, body: { amount, termDays }, headers: { 'idempotency-key': randomUUID() } }));
    expect(res.status).toBe(201);
    return { id: res.body.id, stakedAt: Date.parse(res.body.stakedAt), unlocksAt: Date.parse(res.body.unlocksAt) };
  }
  const unstake = (m: { token: string }, positionId: string, body: Record<string, unknown> = {}) => api.request('POST', `/v1/cooperatives/${coop}/stakes/${positionId}/unstake`, { token: m.token, body });
  const position = async (id: string) => (await api.request('GET', `/v1/cooperatives/${coop}/stakes/${id}`, { token: admin })).body;
  const workflowOf = (id: string) => stack.client.workflow.getHandle<() => Promise<StakeState>>(`stake:${id}`);
  const unstakeTransactions = async (positionId: string) =>
    (await stack.pool.query(`SELECT id FROM transactions WHERE cooperative_id = $1 AND type = 'unstake' AND metadata->>'positionId' = $2`, [coop, positionId])).rows.length;

  it('holds a 365-day lock to its unlock instant in virtual time, then returns the credits by itself as the lots they left', async () => {
    // Two paid lots: one expiring after the lock ends, one that never expires.
    const expiry = new Date((await stack.now()) + 500 * DAY);
    const m = await member(6, expiry);
    const lasting = (await ledger.mint(stack.pool, { cooperativeId: coop, memberId: m.id, amount: cloud(4), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `buy-${randomUUID()}` })).transaction.metadata.lotId;
    const before = await stack.now();
    const p = await stake(m, '10', 365);
    expect(p.stakedAt).toBeGreaterThanOrEqual(before);
    expect(p.unlocksAt - p.stakedAt).toBe(365 * DAY);

    // A minute before the unlock instant: the timer has not fired and the position is still staked.
    await stack.sleepUntil(p.unlocksAt - MINUTE);
    expect(await stack.firedTimers(`stake:${p.id}`)).toBe(0);
    expect((await position(p.id)).status).toBe('active');

    // The workflow ends with the release: awaiting it lets the lock run out.
    expect(await workflowOf(p.id).result()).toMatchObject({ status: 'released', releasedBy: 'auto_release', releaseKind: 'unlocked' });
    expect((await workflowOf(p.id).describe()).closeTime!.getTime()).toBeGreaterThanOrEqual(p.unlocksAt);
    const released = await position(p.id);
    expect(released).toMatchObject({ status: 'released', releaseKind: 'unlocked', penalty: null });
    expect(Date.parse(released.releasedAt)).toBeGreaterThanOrEqual(p.unlocksAt);

    // Not fresh credits: each lot the stake took comes back with its category, priority and expiry, and that lot as its parent.
    const { rows } = await stack.pool.query(
      `SELECT parent_lot_id, category, priority, expires_at, original::text FROM lots WHERE member_id = $1 AND source = 'unstake' ORDER BY original`,
      [m.id],
    );
    expect(rows).toEqual([
      { parent_lot_id: lasting, category: 'paid', priority: 100, expires_at: null, original: '4000000' },
      { parent_lot_id: m.lotId, category: 'paid', priority: 100, expires_at: expiry, original: '6000000' },
    ]);
    expect(await ledger.memberBalance(stack.pool, coop, m.id)).toMatchObject({ wallet: cloud(10), staked: 0n, positions: [] });
    expect(await unstakeTransactions(p.id)).toBe(1);
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  });

  it('refuses an unstake one second before the unlock instant, changing nothing, and accepts it at the instant', async () => {
    const m = await member(3);
    const p = await stake(m, '3', 30);

    await stack.sleepUntil(p.unlocksAt - SECOND);
    expect(await stack.firedTimers(`stake:${p.id}`)).toBe(0);
    const early = await unstake(m, p.id);
    expect({ status: early.status, code: early.body.error?.code, message: early.body.error?.message }).toEqual({
      status: 409, code: 'CONFLICT', message: `The position is locked until ${new Date(p.unlocksAt).toISOString()}`,
    });
    expect((await position(p.id)).status).toBe('active');
    expect(await unstakeTransactions(p.id)).toBe(0);
    expect((await ledger.memberBalance(stack.pool, coop, m.id)).staked).toBe(cloud(3));

    // At the instant (the workflow judges the lock by its clock, whether or not its timer has fired yet).
    await stack.sleepUntil(p.unlocksAt);
    const accepted = await unstake(m, p.id);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'released', releaseKind: 'unlocked' });
    expect(Date.parse(accepted.body.releasedAt)).toBeGreaterThanOrEqual(p.unlocksAt);
    expect(await workflowOf(p.id).result()).toMatchObject({ status: 'released', releasedBy: 'member' });
    expect(await ledger.memberBalance(stack.pool, coop, m.id)).toMatchObject({ available: cloud(3), staked: 0n });
    expect(await unstakeTransactions(p.id)).toBe(1);
  });

  it('releases once when the auto-release and the member racing it both ask', async () => {
    const members = await Promise.all([member(2), member(2), member(2)]);
    const positions: Array<{ id: string; unlocksAt: number }> = [];
    for (const m of members) positions.push(await stake(m, '2', 90));
    const unlock = Math.max(...positions.map((p) => p.unlocksAt));

    // The timers fire and the auto-releases start while every member asks to unstake.
    await stack.sleepUntil(unlock);
    const answers = await Promise.all(members.map((m, i) => unstake(m, positions[i]!.id)));
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(members.map(() => [200, 'released']));
    for (const [i, p] of positions.entries()) {
      const ended = await workflowOf(p.id).result();
      expect(['member', 'auto_release']).toContain(ended.releasedBy);
      expect(await unstakeTransactions(p.id)).toBe(1);
      expect(await ledger.memberBalance(stack.pool, coop, members[i]!.id)).toMatchObject({ wallet: cloud(2), staked: 0n });
    }
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  });

  it('keeps positions waiting across a worker restart: the timer that fires meanwhile and those still to come each release once', async () => {
    const [a, b, c] = await Promise.all([member(1), member(1), member(1)]);
    const waits = await stake(a, '1', 30);
    const quarter = await stake(b, '1', 90);
    const year = await stake(c, '1', 365);

    // The worker goes away while all three wait, and the 30-day lock runs out with none running. (With
    // no worker to take the workflow task that firing makes, the test server skips no further.)
    // The stake is answered once its workflow starts; its first task, which starts the timer, may still be running.
    const firesAt = (await eventually(() => stack.pendingTimer(`stake:${waits.id}`), (t) => t !== undefined))!;
    expect(firesAt).toBeGreaterThanOrEqual(waits.unlocksAt);
    await stack.restartWorker(async () => {
      await stack.sleepUntil(firesAt);
      expect(await stack.firedTimers(`stake:${waits.id}`)).toBe(1);
      expect((await position(waits.id)).status).toBe('active');
    });

    // The new worker takes the 30-day position up where it was: unlocked, waiting for its member.
    expect((await eventually(() => workflowOf(waits.id).query(stakeState), (s) => s.status === 'unlocked')).status).toBe('unlocked');
    expect((await unstake(a, waits.id)).body.status).toBe('released');
    // And releases the others at their own unlock instants.
    for (const p of [quarter, year]) {
      expect(await workflowOf(p.id).result()).toMatchObject({ status: 'released', releasedBy: 'auto_release' });
      expect(Date.parse((await position(p.id)).releasedAt)).toBeGreaterThanOrEqual(p.unlocksAt);
    }
    for (const p of [waits, quarter, year]) expect(await unstakeTransactions(p.id)).toBe(1);
    for (const m of [a, b, c]) expect(await ledger.memberBalance(stack.pool, coop, m.id)).toMatchObject({ wallet: cloud(1), staked: 0n });
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  });
});
