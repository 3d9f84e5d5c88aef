import { nextRuleStatus, RuleTransitionError, validateShares } from '../../domain/governance/revenue-rule';

const ctx = { proposer: 'alice' };
const bob = { subject: 'bob', role: 'coop_admin' };

describe('revenue-rule lifecycle', () => {
  it('goes draft → pending_approval → cooling_down → active → superseded', () => {
    expect(nextRuleStatus('draft', 'submit', ctx)).toBe('pending_approval');
    expect(nextRuleStatus('pending_approval', 'approve', { ...ctx, actor: bob })).toBe('cooling_down');
    expect(nextRuleStatus('cooling_down', 'cooldown_elapsed', ctx)).toBe('active');
    expect(nextRuleStatus('active', 'supersede', ctx)).toBe('superseded');
  });

  it('refuses approval by the proposer, rejection after activation and an override without a reason', () => {
    expect(() => nextRuleStatus('pending_approval', 'approve', { ...ctx, actor: { subject: 'alice', role: 'coop_admin' } })).toThrow(/proposer cannot approve/);
    expect(nextRuleStatus('cooling_down', 'reject', ctx)).toBe('rejected');
    expect(() => nextRuleStatus('active', 'reject', ctx)).toThrow(RuleTransitionError);
    expect(() => nextRuleStatus('cooling_down', 'override_cooldown', { ...ctx, reason: ' ' })).toThrow(/needs a reason/);
    expect(nextRuleStatus('cooling_down', 'override_cooldown', { ...ctx, reason: 'payroll deadline' })).toBe('active');
    expect(() => nextRuleStatus('draft', 'approve', { ...ctx, actor: bob })).toThrow(/cannot approve a rule that is draft/);
  });

  it('validates shares: positive, unique, summing to exactly 10000', () => {
    expect(() => validateShares([{ name: 'members', basisPoints: 7000 }, { name: 'reserve', basisPoints: 3000 }])).not.toThrow();
    expect(() => validateShares([{ name: 'members', basisPoints: 7000 }, { name: 'reserve', basisPoints: 2999 }])).toThrow(/not 9999/);
    expect(() => validateShares([{ name: 'a', basisPoints: 10000 }, { name: 'a', basisPoints: 0 }])).toThrow(/unique/);
    expect(() => validateShares([{ name: 'a', basisPoints: 10001 }, { name: 'b', basisPoints: -1 }])).toThrow(/positive/);
    expect(() => validateShares([])).toThrow(/at least one/);
  });
});
