import { RULE_STATUSES } from '../../domain/governance/revenue-rule';
import type { RevenueRule } from '../../domain/governance/revenue-rule-record';
import { createdRangeQuery, ExternalId, pageOf, pageQuery, SafeText, Uuid } from './common';
import { PositiveAmount } from './money';
import { z } from './zod';

const ShareBasisPoints = z.number().int().min(1).max(10_000);

export const CreateRevenueRuleBody = z
  .strictObject({
    name: SafeText(1, 200),
    shares: z
      .array(
        z.union([
          z.strictObject({ name: SafeText(1, 100), memberId: Uuid, basisPoints: ShareBasisPoints }),
          z.strictObject({ name: SafeText(1, 100), stakers: z.literal(true).openapi({ description: 'paid to the staking positions of the period, pro rata to amount × multiplier × time' }), basisPoints: ShareBasisPoints }),
        ]),
      )
      .min(1)
      .max(100),
  })
  .openapi('CreateRevenueRule');

export const RuleActionBody = z.strictObject({ reason: SafeText(1, 2000).optional() }).openapi('RevenueRuleAction');
export const OverrideBody = z.strictObject({ reason: SafeText(1, 2000) }).openapi('RevenueRuleOverride');
export const RuleParams = z.strictObject({ ruleId: Uuid });

export const RevenueRuleView = z
  .object({
    id: Uuid, version: z.number().int(), name: z.string(), status: z.enum(RULE_STATUSES), proposer: z.string(), approver: z.string().nullable(),
    cooldownEndsAt: z.string().nullable(), activatedAt: z.string().nullable(), workflowId: z.string(),
    shares: z.array(z.object({ name: z.string(), memberId: Uuid.optional(), stakers: z.literal(true).optional(), basisPoints: z.number().int() })),
    history: z.array(z.object({ action: z.string(), from: z.string(), to: z.string(), actor: z.string().nullable(), reason: z.string().nullable(), at: z.string() })),
  })
  .openapi('RevenueRule');

export const revenueRuleView = (r: RevenueRule, workflowId: string): z.infer<typeof RevenueRuleView> => ({
  id: r.id, version: r.version, name: r.name, status: r.status, proposer: r.proposer, approver: r.approver, cooldownEndsAt: r.cooldownEndsAt,
  activatedAt: r.activatedAt, workflowId, shares: r.shares, history: r.history,
});

export const DistributionBody = z
  .strictObject({
    distributionId: ExternalId,
    amount: PositiveAmount.openapi({ type: 'string', example: '10', description: 'CLOUD to distribute' }),
    period: z
      .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
      .optional()
      .openapi({ description: "the ended period [from, to) the revenue was earned in: required when the active rule has a stakers share, whose positions are paid for their time staked in it" }),
  })
  .openapi('RevenueDistribution');

export const RevenueRulePage = pageOf(RevenueRuleView, 'RevenueRulePage');

export const RevenueRuleListQuery = z.strictObject({ status: z.enum(RULE_STATUSES).optional(), ...createdRangeQuery, ...pageQuery });
