import { STAKING_POSITION_STATUSES, STAKING_RELEASE_KINDS, STAKING_TERM_LIMITS, stakeWorkflowId, type StakingPosition } from '../../domain/staking';
import type { StakingTerms } from '../../db/staking-terms';
import { formatMicros } from '../../domain/money';
import { pageQuery, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
import { z } from './zod';

const l = STAKING_TERM_LIMITS;

export const StakingTermSchema = z
  .strictObject({
    days: z.number().int().min(l.minDays).max(l.maxDays),
    multiplierBasisPoints: z.number().int().min(l.minMultiplier).max(l.maxMultiplier).openapi({ description: 'weight in the stakers revenue share; 10000 = 1.0x', example: 12_500 }),
    autoRelease: z.boolean().openapi({ description: 'credits come back by themselves at the unlock instant; otherwise they wait for the member' }),
    earlyExitPenaltyBasisPoints: z.number().int().min(0).max(l.maxPenalty).nullable().default(null)
      .openapi({ description: 'null: no early exit; otherwise the share of the stake forfeited by leaving before the unlock instant' }),
  })
  .openapi('StakingTerm');

export const StakingTermsBody = z.strictObject({ terms: z.array(StakingTermSchema).min(1).max(l.maxTerms) }).openapi('StakingTermsUpdate');

export const StakingTermsView = z
  .object({ terms: z.array(StakingTermSchema), isDefault: z.boolean().openapi({ description: 'true while the cooperative has set no terms of its own' }) })
  .openapi('StakingTerms');

export const stakingTermsView = (t: StakingTerms): z.infer<typeof StakingTermsView> => ({ terms: t.terms, isDefault: t.isDefault });

export const StakeBody = z
  .strictObject({
    amount: PositiveAmount.openapi({ type: 'string', example: '25', description: 'CLOUD to stake (paid credits valid past the unlock instant)' }),
    termDays: z.number().int().min(l.minDays).max(l.maxDays).openapi({ description: "one of the cooperative's terms", example: 90 }),
  })
  .openapi('Stake');

export const UnstakeBody = z
  .strictObject({ earlyExit: z.boolean().optional().openapi({ description: "leave before the unlock instant, forfeiting the term's penalty (only where the term allows it)" }) })
  .openapi('Unstake');

export const PositionParams = z.strictObject({ cooperativeId: Uuid, positionId: Uuid });

export const PositionListQuery = z.strictObject({
  memberId: Uuid.optional(),
  status: z.enum(STAKING_POSITION_STATUSES).optional(),
  ...pageQuery,
});

export const PositionView = z
  .object({
    id: Uuid,
    memberId: Uuid,
    amount: AmountString,
    termDays: z.number().int(),
    multiplierBasisPoints: z.number().int(),
    autoRelease: z.boolean(),
    earlyExitPenaltyBasisPoints: z.number().int().nullable(),
    stakedAt: z.iso.datetime(),
    unlocksAt: z.iso.datetime(),
    status: z.enum(STAKING_POSITION_STATUSES),
    releasedAt: z.iso.datetime().nullable(),
    releaseKind: z.enum(STAKING_RELEASE_KINDS).nullable(),
    penalty: AmountString.nullable().openapi({ description: 'CLOUD forfeited by an early exit' }),
    revenueEarned: AmountString.openapi({ description: 'CLOUD paid to the position by revenue distributions' }),
    workflowId: z.string().openapi({ description: 'stake:<id>, to find the position in the Temporal UI' }),
  })
  .openapi('StakingPosition');

export function positionView(p: StakingPosition): z.infer<typeof PositionView> {
  return {
    id: p.id, memberId: p.memberId, amount: formatMicros(p.amount), termDays: p.termDays, multiplierBasisPoints: p.multiplierBasisPoints, autoRelease: p.autoRelease,
    earlyExitPenaltyBasisPoints: p.earlyExitPenaltyBasisPoints, stakedAt: p.stakedAt, unlocksAt: p.unlocksAt, status: p.status, releasedAt: p.releasedAt,
    releaseKind: p.releaseKind, penalty: p.penalty === null ? null : formatMicros(p.penalty), revenueEarned: formatMicros(p.revenueEarned), workflowId: stakeWorkflowId(p.id),
  };
}

export const PositionPage = z.object({ items: z.array(PositionView), nextCursor: z.string().nullable() }).openapi('StakingPositionPage');
