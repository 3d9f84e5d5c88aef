import { BusinessError } from '../../domain/errors';
import { nextRuleStatus, validateShares } from '../../domain/governance/revenue-rule';

const ctx = { proposer: 'alice' };
const bob = { subject: 'bob', role: 'coop_admin' };

describe('revenue-rule lifecycle', () => {
  it('goes draft → pending_approval → cooling_down → active → superseded', () => {
    expect(nextRuleStatus('draft', 'submit', ctx)).toBe('pending_approval');
    expect(nextRuleStatus('pending_approval', 'approve', { ...ctx, actor: bob })).toBe('cooling_down');
    expect(nextRuleStatus('cooling_down', 'cooldown_elapsed', ctx)).toBe('active');
    expect(nextRuleStatus('active', 'supersede', ctx)).toBe('superseded');
  });

  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      return err instanceof BusinessError ? err.code : err;
    }
    return undefined;
  };
  const operator = { subject: 'op', role: 'operator' };

  it('refuses each step with a typed failure: who may not act is FORBIDDEN, a step out of turn is CONFLICT', () => {
    expect(codeOf(() => nextRuleStatus('pending_approval', 'approve', { ...ctx, actor: { subject: 'alice', role: 'coop_admin' } }))).toBe('FORBIDDEN');
    expect(nextRuleStatus('cooling_down', 'reject', ctx)).toBe('rejected');
    expect(codeOf(() => nextRuleStatus('active', 'reject', ctx))).toBe('CONFLICT');
    expect(codeOf(() => nextRuleStatus('cooling_down', 'override_cooldown', { ...ctx, actor: bob, reason: 'hurry' }))).toBe('FORBIDDEN');
    expect(codeOf(() => nextRuleStatus('cooling_down', 'override_cooldown', { ...ctx, actor: operator, reason: ' ' }))).toBe('VALIDATION_ERROR');
    expect(nextRuleStatus('cooling_down', 'override_cooldown', { ...ctx, actor: operator, reason: 'payroll deadline' })).toBe('active');
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
