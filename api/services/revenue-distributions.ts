import { distributeRevenue } from '../../db/ledger';
import type { LedgerResult } from '../../db/ledger/run-operation';
import { activeRule } from '../../db/revenue-rules';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

/** Distributes revenue by the cooperative's active rule; the transaction records the rule and its version. */
export async function distributeByActiveRule(deps: ApiDependencies, req: { cooperativeId: string; distributionId: string; amount: bigint; idempotencyKey: string }): Promise<LedgerResult> {
  const rule = await activeRule(deps.pool, req.cooperativeId);
  if (!rule) throw new ApiError('CONFLICT', 'The cooperative has no active revenue rule');
  return distributeRevenue(deps.pool, {
    ...req,
    shares: rule.shares.map((s) => ({ memberId: s.memberId, basisPoints: s.basisPoints })),
    rule: { ruleId: rule.id, version: rule.version },
  });
}
