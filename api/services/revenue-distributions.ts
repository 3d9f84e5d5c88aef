import { distributeRevenue } from '../../db/ledger';
import type { LedgerResult } from '../../db/ledger/run-operation';
import type { Period } from '../../domain/staking-shares';
import { activeRule } from '../../db/revenue-rules';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

/**
 * Distributes revenue by the cooperative's active rule; the transaction records the rule and its
 * version. A stakers share is paid over the positions of the distribution's period, which it needs.
 */
export async function distributeByActiveRule(
  deps: ApiDependencies,
  req: { cooperativeId: string; distributionId: string; amount: bigint; period?: Period; idempotencyKey: string },
): Promise<LedgerResult> {
  const rule = await activeRule(deps.pool, req.cooperativeId);
  if (!rule) throw new ApiError('CONFLICT', 'The cooperative has no active revenue rule');
  const stakers = rule.shares.find((s) => s.stakers);
  if (stakers && !req.period) throw new ApiError('VALIDATION_ERROR', 'The active rule pays a share to stakers: the distribution needs its period', [{ path: 'body.period', message: 'Required' }]);
  return distributeRevenue(deps.pool, {
    cooperativeId: req.cooperativeId, distributionId: req.distributionId, amount: req.amount, idempotencyKey: req.idempotencyKey,
    shares: rule.shares.flatMap((s) => (s.memberId === undefined ? [] : [{ memberId: s.memberId, basisPoints: s.basisPoints }])),
    ...(stakers ? { stakers: { basisPoints: stakers.basisPoints, period: req.period! } } : {}),
    rule: { ruleId: rule.id, version: rule.version },
    requested: { cooperativeId: req.cooperativeId, distributionId: req.distributionId, amount: req.amount, period: req.period ?? null },
  });
}
