import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import type { RevenueRuleState } from '../../workflows/revenue-rule';
import { cloud, randomAddress } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The revenue-rule lifecycle through the real API with the production cooldown (48 hours, the
 * configuration's default), passed in virtual time; the real worker records each step in PostgreSQL.
 */
describe('revenue-rule cooldown in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  let operator: string;

  beforeAll(async () => {
    stack = await startTimeSkippingStack({ api: true });
    api = stack.api!;
    expect(stack.config.governance.revenueRuleCooldownMs).toBe(48 * HOUR);
    operator = await api.token({ subject: 'op', role: 'operator' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A cooperative with two admins (alice proposes, bob approves) and three members to share revenue. */
  async function cooperative() {
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `vrules-${randomUUID().slice(0, 8)}`, name: 'Rules' } });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const alice = await api.token({ subject: 'admin-alice', role: 'coop_admin', cooperativeId: id });
    const bob = await api.token({ subject: 'admin-bob', role: 'coop_admin', cooperativeId: id });
    const members: string[] = [];
    for (let i = 0; i < 3; i++) members.push((await api.request('POST', `/v1/cooperatives/${id}/members`, { token: alice, body: { address: randomAddress() } })).body.id);
    return { id, alice, bob, members };
  }
  type Coop = Awaited<ReturnType<typeof cooperative>>;

  const post = (path: string, token: string, body: unknown = {}, key?: string) => api.request('POST', path, { token, body, headers: key ? { 'idempotency-key': key } : {} });
  const ruleOf = async (coop: Coop, id: string) => (await api.request('GET', `/v1/revenue-rules/${id}`, { token: coop.alice })).body;
  const workflowOf = (id: string) => stack.client.workflow.getHandle<() => Promise<RevenueRuleState>>(`revenue-rule:${id}`);

  /** Proposed by alice, submitted and approved by bob: the cooldown has started. */
  async function approvedRule(coop: Coop): Promise<{ id: string; cooldownEndsAt: number; approvedFrom: number; approvedBy: number }> {
    const shares = [
      { name: 'workers', memberId: coop.members[0]!, basisPoints: 5000 },
      { name: 'builders', memberId: coop.members[1]!, basisPoints: 3333 },
      { name: 'reserve', memberId: coop.members[2]!, basisPoints: 1667 },
    ];
    const created = await post('/v1/revenue-rules', coop.alice, { name: 'Split', shares }, randomUUID());
    expect(created.status).toBe(201);
    expect((await post(`/v1/revenue-rules/${created.body.id}/submit`, coop.alice)).body.status).toBe('pending_approval');
    const approvedFrom = await stack.now();
    const approved = await post(`/v1/revenue-rules/${created.body.id}/approve`, coop.bob);
    const approvedBy = await stack.now();
    expect(approved.body).toMatchObject({ status: 'cooling_down', approver: 'admin-bob' });
    return { id: created.body.id, cooldownEndsAt: Date.parse(approved.body.cooldownEndsAt), approvedFrom, approvedBy };
  }

  const distribute = async (coop: Coop) => {
    const service = await api.token({ subject: 'billing', role: 'service', cooperativeId: coop.id });
    return post('/v1/revenue-distributions', service, { distributionId: `d-${randomUUID()}`, amount: '0.000007' }, randomUUID());
  };

  it('activates an approved rule when the 48-hour cooldown ends, and not a moment before', async () => {
    const coop = await cooperative();
    // Revenue to distribute: a member buys 20 CLOUD and uses 10.
    await ledger.mint(stack.pool, { cooperativeId: coop.id, memberId: coop.members[0]!, amount: cloud(20), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `earn-${randomUUID()}` });
    await ledger.redeemUsage(stack.pool, { cooperativeId: coop.id, memberId: coop.members[0]!, primitive: 'compute_hours', quantity: 10_000_000n, idempotencyKey: `use-${randomUUID()}` });
    const rule = await approvedRule(coop);
    expect(rule.cooldownEndsAt).toBeGreaterThanOrEqual(rule.approvedFrom + 48 * HOUR);
    expect(rule.cooldownEndsAt).toBeLessThanOrEqual(rule.approvedBy + 48 * HOUR);

    // A minute before the end: the timer has not fired, the rule is still cooling down and governs nothing.
    await stack.sleepUntil(rule.cooldownEndsAt - MINUTE);
    expect(await stack.firedTimers(`revenue-rule:${rule.id}`)).toBe(0);
    expect((await ruleOf(coop, rule.id)).status).toBe('cooling_down');
    const early = await distribute(coop);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('CONFLICT');

    // The workflow ends with the activation: awaiting it lets the cooldown run out.
    expect(await workflowOf(rule.id).result()).toMatchObject({ status: 'active' });
    expect((await workflowOf(rule.id).describe()).closeTime!.getTime()).toBeGreaterThanOrEqual(rule.cooldownEndsAt);
    const active = await ruleOf(coop, rule.id);
    expect(active.status).toBe('active');
    expect(active.history.map((h: { action: string }) => h.action)).toEqual(['submit', 'approve', 'cooldown_elapsed']);

    const distributed = await distribute(coop);
    expect(distributed.status).toBe(201);
    expect(distributed.body.metadata).toMatchObject({ ruleId: rule.id, ruleVersion: active.version });
    expect((await ledger.integrityReport(stack.pool, coop.id)).findings).toEqual([]);
  });

  it('never activates a rule rejected during the cooldown, even after the 48 hours have passed', async () => {
    const coop = await cooperative();
    const rule = await approvedRule(coop);
    await stack.sleep(24 * HOUR);
    const rejected = await post(`/v1/revenue-rules/${rule.id}/reject`, coop.alice, { reason: 'numbers were wrong' });
    expect(rejected.body.status).toBe('rejected');
    expect(await workflowOf(rule.id).result()).toMatchObject({ status: 'rejected' });

    await stack.sleepUntil(rule.cooldownEndsAt + HOUR);
    const after = await ruleOf(coop, rule.id);
    expect(after.status).toBe('rejected');
    expect(after.history.map((h: { action: string }) => h.action)).toEqual(['submit', 'approve', 'reject']);
    expect((await post(`/v1/revenue-rules/${rule.id}/approve`, coop.bob)).body.error.code).toBe('CONFLICT');
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM revenue_rules WHERE cooperative_id = $1 AND status = 'active'`, [coop.id]);
    expect(rows[0].n).toBe(0);
  });

  it('activates at once when an operator overrides the cooldown, with the reason audited', async () => {
    const coop = await cooperative();
    const rule = await approvedRule(coop);
    await stack.sleep(HOUR);
    expect((await post(`/v1/revenue-rules/${rule.id}/override`, coop.bob, { reason: 'hurry' })).status).toBe(403);
    const overridden = await post(`/v1/revenue-rules/${rule.id}/override`, operator, { reason: 'payroll is due before the cooldown ends' });
    expect(overridden.body.status).toBe('active');
    expect(overridden.body.history.at(-1)).toMatchObject({ action: 'override_cooldown', actor: 'op', reason: 'payroll is due before the cooldown ends' });

    expect(await workflowOf(rule.id).result()).toMatchObject({ status: 'active' });
    // Ended 47 hours early: the cooldown's timer never fired.
    expect((await workflowOf(rule.id).describe()).closeTime!.getTime()).toBeLessThan(rule.cooldownEndsAt);
    expect(await stack.firedTimers(`revenue-rule:${rule.id}`)).toBe(0);
    const { rows } = await stack.pool.query(`SELECT id FROM revenue_rules WHERE cooperative_id = $1 AND status = 'active'`, [coop.id]);
    expect(rows).toEqual([{ id: rule.id }]);
  });
});
