import { BusinessError } from '../errors';

/**
 * The revenue-rule lifecycle: draft → pending_approval → cooling_down → active → superseded, with
 * reject possible before activation. The transition table is the one source of what may happen when.
 */
export const RULE_STATUSES = ['draft', 'pending_approval', 'cooling_down', 'active', 'superseded', 'rejected'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

export type RuleAction = 'submit' | 'approve' | 'reject' | 'cooldown_elapsed' | 'override_cooldown' | 'supersede';

const TRANSITIONS: Record<RuleAction, Partial<Record<RuleStatus, RuleStatus>>> = {
  submit: { draft: 'pending_approval' },
  approve: { pending_approval: 'cooling_down' },
  reject: { draft: 'rejected', pending_approval: 'rejected', cooling_down: 'rejected' },
  cooldown_elapsed: { cooling_down: 'active' },
  override_cooldown: { cooling_down: 'active' },
  supersede: { active: 'superseded' },
};

export interface RuleActor {
  subject: string;
  role: string;
}

/**
 * The next status, or a BusinessError saying why not: CONFLICT when the rule is not where the action
 * starts from, FORBIDDEN when this actor may not take it (the proposer approving, anyone but an
 * operator overriding), VALIDATION_ERROR for an override without its reason.
 */
export function nextRuleStatus(current: RuleStatus, action: RuleAction, context: { proposer: string; actor?: RuleActor; reason?: string }): RuleStatus {
  const next = TRANSITIONS[action][current];
  if (!next) throw new BusinessError('CONFLICT', `cannot ${action.replace('_', ' ')} a rule that is ${current}`);
  if (action === 'approve' && context.actor?.subject === context.proposer) throw new BusinessError('FORBIDDEN', 'the proposer cannot approve their own rule');
  if (action === 'override_cooldown' && context.actor?.role !== 'operator') throw new BusinessError('FORBIDDEN', 'only an operator can override the cooldown');
  if (action === 'override_cooldown' && !context.reason?.trim()) throw new BusinessError('VALIDATION_ERROR', 'an override needs a reason');
  return next;
}

/**
 * Named shares in basis points: each positive, names unique, at most one for the stakers, summing to
 * exactly 10,000 (members are checked where they are known: db/revenue-rules.ts).
 */
export function validateShares(shares: ReadonlyArray<{ name: string; basisPoints: number; stakers?: boolean }>): void {
  if (shares.length === 0) throw new RangeError('a rule needs at least one share');
  if (shares.filter((s) => s.stakers).length > 1) throw new RangeError('a rule has at most one stakers share');
  if (new Set(shares.map((s) => s.name)).size !== shares.length) throw new RangeError('share names must be unique');
  if (shares.some((s) => !Number.isInteger(s.basisPoints) || s.basisPoints <= 0)) throw new RangeError('each share is a positive whole number of basis points');
  const total = shares.reduce((sum, s) => sum + s.basisPoints, 0);
  if (total !== 10_000) throw new RangeError(`shares must sum to 10000 basis points, not ${total}`);
}
