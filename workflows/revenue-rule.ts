import { allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { RevenueRuleActivities } from '../activities/revenue-rules';
import { BusinessError } from '../domain/errors';
import { nextRuleStatus, type RuleAction, type RuleActor, type RuleStatus } from '../domain/governance/revenue-rule';
import { refuseOnBusinessError } from './business-refusal';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface RevenueRuleInput {
  ruleId: string;
  cooperativeId: string;
  proposer: string;
  /** Cooling-off period between approval and activation (default 48 hours). */
  cooldownMs?: number;
}

export interface RuleActionInput {
  actor: RuleActor;
  reason?: string;
}

export interface RevenueRuleState {
  status: RuleStatus;
  cooldownEndsAt?: string;
}

export const submitRule = defineUpdate<RevenueRuleState, [RuleActionInput]>('submit');
export const approveRule = defineUpdate<RevenueRuleState, [RuleActionInput]>('approve');
export const rejectRule = defineUpdate<RevenueRuleState, [RuleActionInput]>('reject');
export const overrideCooldown = defineUpdate<RevenueRuleState, [RuleActionInput]>('override');
export const revenueRuleStatus = defineQuery<RevenueRuleState>('status');
export const revenueRuleWorkflowId = (ruleId: string) => `revenue-rule:${ruleId}`;

const { applyRuleTransition } = proxyActivities<RevenueRuleActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumInterval: '1 minute' } });

const HOUR = 3_600_000;

/**
 * A revenue rule's life: draft → pending_approval → cooling_down → active (superseding the previous
 * active rule), or rejected before activation. Each step is an Update validated against the transition
 * table (the proposer cannot approve; only an operator overrides the cooldown, with a reason), and
 * each is recorded in the rule's audit trail.
 */
export async function revenueRule(input: RevenueRuleInput): Promise<RevenueRuleState> {
  const state: RevenueRuleState = { status: 'draft' };
  let override: RuleActionInput | undefined;
  // Set synchronously once the cooldown has ended and activation begins: later steps are refused.
  let activating = false;
  // Set synchronously when a reject is accepted, so a cooldown ending meanwhile cannot activate the rule.
  let rejecting = false;
  // One step at a time: a step is accepted only when no other is being recorded.
  let busy = false;
  let steps = 0;
  setHandler(revenueRuleStatus, () => state);
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: state.status }]);

  const transition = async (action: RuleAction, to: RuleStatus, actor?: RuleActionInput, cooldownEndsAt?: string) => {
    const from = state.status;
    busy = true;
    try {
      await applyRuleTransition({
        cooperativeId: input.cooperativeId, ruleId: input.ruleId, step: `${++steps}:${action}`, action, from, to,
        actor: actor?.actor.subject, reason: actor?.reason, cooldownEndsAt,
      });
    } finally {
      busy = false;
    }
    state.status = to;
    if (cooldownEndsAt) state.cooldownEndsAt = cooldownEndsAt;
    upsertSearchAttributes([{ key: BusinessStatus, value: to }]);
  };

  const validate = (action: RuleAction) => (args: RuleActionInput) =>
    refuseOnBusinessError(() => {
      if (busy || rejecting || activating) throw new BusinessError('CONFLICT', 'another step of this rule is in progress');
      nextRuleStatus(state.status, action, { proposer: input.proposer, actor: args.actor, reason: args.reason });
    });

  setHandler(submitRule, async (args) => (await transition('submit', 'pending_approval', args), state), { validator: validate('submit') });
  setHandler(
    approveRule,
    async (args) => {
      await transition('approve', 'cooling_down', args, new Date(Date.now() + (input.cooldownMs ?? 48 * HOUR)).toISOString());
      return state;
    },
    { validator: validate('approve') },
  );
  setHandler(
    rejectRule,
    async (args) => {
      if (rejecting) return state;
      rejecting = true;
      await transition('reject', 'rejected', args);
      return state;
    },
    { validator: validate('reject') },
  );
  setHandler(
    overrideCooldown,
    async (args) => {
      override = args;
      await condition(() => state.status !== 'cooling_down');
      return state;
    },
    { validator: validate('override_cooldown') },
  );

  await condition(() => state.status === 'cooling_down' || state.status === 'rejected');
  if (state.status === 'cooling_down') {
    const endsAt = Date.parse(state.cooldownEndsAt!);
    await condition(() => override !== undefined || rejecting || state.status !== 'cooling_down', Math.max(endsAt - Date.now(), 0));
    await condition(() => !busy);
    if (state.status === 'cooling_down' && !rejecting) {
      activating = true;
      if (override) await transition('override_cooldown', 'active', override);
      else await transition('cooldown_elapsed', 'active');
    }
  }
  await condition(allHandlersFinished);
  return state;
}
