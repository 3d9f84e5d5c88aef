import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * The revenue-rule lifecycle over HTTP in real time. One rule waits out a 2-second cooldown standing in
 * for the 48-hour default; the other tests run on an API with the default cooldown, so that a reject or
 * an override is never raced by the end of the cooldown. The 48 hours themselves pass in virtual time in
 * test/workflows/revenue-rule.test.ts.
 */
describe('revenue rules', () => {
  let api: TestApi;
  /** The same API with a 2-second cooldown. */
  let fast: TestApi;
  let worker: TestWorker;
  let coop: string;
  let alice: string; // proposer
  let bob: string; // another admin
  let operator: string;
  let members: string[];

  beforeAll(async () => {
    [api, fast, worker] = await Promise.all([startTestApi(), startTestApi({ REVENUE_RULE_COOLDOWN_SECONDS: '2' }), startTestWorker()]);
    operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `rules-${randomUUID().slice(0, 8)}`, name: 'Rules' } })).body.id;
    alice = await api.token({ subject: 'admin-alice', role: 'coop_admin', cooperativeId: coop });
    bob = await api.token({ subject: 'admin-bob', role: 'coop_admin', cooperativeId: coop });
    members = [];
    for (let i = 0; i < 3; i++) members.push((await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: alice, body: { address: randomAddress() } })).body.id);
  });
  afterAll(async () => {
    await Promise.all([api?.close(), fast?.close(), worker?.stop()]);
  });

  const shares = () => [
    { name: 'workers', memberId: members[0]!, basisPoints: 5000 },
    { name: 'builders', memberId: members[1]!, basisPoints: 3333 },
    { name: 'reserve', memberId: members[2]!, basisPoints: 1667 },
  ];
  const post = (path: string, token: string, body: unknown = {}, key: string | null = null, via = api) =>
    via.request('POST', path, { token, body, headers: key ? { 'idempotency-key': key } : {} });

  async function propose(via = api): Promise<string> {
    const created = await post('/v1/revenue-rules', alice, { name: 'Split', shares: shares() }, randomUUID(), via);
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('draft');
    expect((await post(`/v1/revenue-rules/${created.body.id}/submit`, alice)).body.status).toBe('pending_approval');
    return created.body.id;
  }

  async function until(ruleId: string, status: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rule = (await api.request('GET', `/v1/revenue-rules/${ruleId}`, { token: alice })).body;
      if (rule.status === status) return rule;
      if (Date.now() > deadline) throw new Error(`rule ${ruleId} is ${rule.status}, expected ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('refuses shares that do not sum to 10000', async () => {
    const bad = await post('/v1/revenue-rules', alice, { name: 'Bad', shares: [{ name: 'a', memberId: members[0], basisPoints: 9999 }] }, randomUUID());
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const twice = [{ name: 'a', memberId: members[0], basisPoints: 5000 }, { name: 'b', memberId: members[0], basisPoints: 5000 }];
    expect((await post('/v1/revenue-rules', alice, { name: 'Twice', shares: twice }, randomUUID())).status).toBe(400);
    const stranger = [{ name: 'a', memberId: randomUUID(), basisPoints: 10000 }];
    expect((await post('/v1/revenue-rules', alice, { name: 'Stranger', shares: stranger }, randomUUID())).status).toBe(400);
  });

  it('needs an approver other than the proposer, cools down, then becomes active', async () => {
    const id = await propose(fast);
    const self = await post(`/v1/revenue-rules/${id}/approve`, alice);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('FORBIDDEN');
    const approved = await post(`/v1/revenue-rules/${id}/approve`, bob);
    expect(approved.body).toMatchObject({ status: 'cooling_down', approver: 'admin-bob' });
    const active = await until(id, 'active');
    expect(active.history.map((h: { action: string }) => h.action)).toEqual(['submit', 'approve', 'cooldown_elapsed']);
  });

  it('can be rejected during the cooldown, and then never activates', async () => {
    const id = await propose();
    await post(`/v1/revenue-rules/${id}/approve`, bob);
    const rejected = await post(`/v1/revenue-rules/${id}/reject`, alice, { reason: 'numbers were wrong' });
    expect(rejected.body.status).toBe('rejected');
    // The workflow ends with the rejection; nothing is left that could activate the rule later.
    expect(await api.temporal.workflow.getHandle(rejected.body.workflowId).result()).toMatchObject({ status: 'rejected' });
    expect((await api.request('GET', `/v1/revenue-rules/${id}`, { token: alice })).body.status).toBe('rejected');
    expect((await post(`/v1/revenue-rules/${id}/approve`, bob)).body.error.code).toBe('CONFLICT');
  });

  it('never revives a finished rule when its create request is replayed', async () => {
    const key = randomUUID();
    const created = await post('/v1/revenue-rules', alice, { name: 'Once', shares: shares() }, key);
    await post(`/v1/revenue-rules/${created.body.id}/reject`, bob, { reason: 'no' });
    const replay = await post('/v1/revenue-rules', alice, { name: 'Once', shares: shares() }, key);
    expect(replay.status).toBe(200);
    expect(replay.body.status).toBe('rejected');
    expect((await post(`/v1/revenue-rules/${created.body.id}/submit`, alice)).body.error.code).toBe('CONFLICT');
  });

  it('lets an operator override the cooldown with a reason, and audits it', async () => {
    const id = await propose();
    await post(`/v1/revenue-rules/${id}/approve`, bob);
    expect((await post(`/v1/revenue-rules/${id}/override`, operator, {})).status).toBe(400);
    expect((await post(`/v1/revenue-rules/${id}/override`, bob, { reason: 'hurry' })).status).toBe(403);
    const overridden = await post(`/v1/revenue-rules/${id}/override`, operator, { reason: 'payroll is due before the cooldown ends' });
    expect(overridden.body.status).toBe('active');
    expect(overridden.body.history.at(-1)).toMatchObject({ action: 'override_cooldown', actor: 'op', reason: 'payroll is due before the cooldown ends' });
  });

  it('leaves exactly one active rule when two race to activation, and the database refuses a second', async () => {
    const [a, b] = [await propose(), await propose()];
    await Promise.all([post(`/v1/revenue-rules/${a}/approve`, bob), post(`/v1/revenue-rules/${b}/approve`, bob)]);
    await Promise.all([post(`/v1/revenue-rules/${a}/override`, operator, { reason: 'race a' }), post(`/v1/revenue-rules/${b}/override`, operator, { reason: 'race b' })]);
    const { rows } = await api.pool.query(`SELECT status FROM revenue_rules WHERE cooperative_id = $1 AND status = 'active'`, [coop]);
    expect(rows).toHaveLength(1);
    const statuses = await Promise.all([a, b].map(async (id) => (await api.request('GET', `/v1/revenue-rules/${id}`, { token: alice })).body.status));
    expect(statuses.sort()).toEqual(['active', 'superseded']);
    await expect(api.pool.query(`UPDATE revenue_rules SET status = 'active' WHERE cooperative_id = $1`, [coop])).rejects.toThrow(/revenue_rules_one_active/);
  });

  it('distributes by the active rule, recording its version, with parts summing to the whole', async () => {
    // Earn revenue first: a member buys 20 CLOUD and uses 10, so 10 CLOUD of backing is free to distribute.
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: members[0]!, amount: cloud(20), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'earn' });
    await ledger.redeemUsage(api.pool, { cooperativeId: coop, memberId: members[0]!, primitive: 'compute_hours', quantity: 10_000_000n, idempotencyKey: 'use' });
    const id = await propose();
    await post(`/v1/revenue-rules/${id}/approve`, bob);
    const rule = (await post(`/v1/revenue-rules/${id}/override`, operator, { reason: 'test distribution' })).body;
    const service = await api.token({ subject: 'billing', role: 'service', cooperativeId: coop });
    const res = await post('/v1/revenue-distributions', service, { distributionId: `d-${randomUUID()}`, amount: '0.000007' }, randomUUID());
    expect(res.status).toBe(201);
    expect(res.body.metadata).toMatchObject({ ruleId: id, ruleVersion: rule.version });
    const credited = res.body.entries.filter((e: { accountCode: string }) => e.accountCode === '2100').map((e: { amount: string }) => -Number(e.amount) * 1e6);
    expect(credited.reduce((a: number, b: number) => a + b, 0)).toBe(7);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });
});
