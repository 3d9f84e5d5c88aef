import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { cloudToUsd, formatMicros, MoneyFormatError, splitByBasisPoints } from '../../../domain/money';
import { MEMBER_ACCOUNTS } from '../../../domain/chart-of-accounts';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction, type NewLot } from '../write-transaction';

export interface RevenueDistributionRequest {
  cooperativeId: string;
  distributionId: string;
  /** µCLOUD distributed in total. */
  amount: bigint;
  shares: Array<{ memberId: string; basisPoints: number }>;
  /** Index of the share that receives the rounding remainder (default: the largest share, first on ties). */
  remainderTo?: number;
  /** The governing revenue rule and its version, recorded on the transaction. */
  rule?: { ruleId: string; version: number };
  idempotencyKey: string;
}

/**
 * Distributes revenue to members as credits, split by basis points with a stated remainder owner so
 * the parts sum exactly to the whole. CLOUD leg: Dr 1900 / Cr each wallet (a `distribution` lot).
 * USD leg: Dr 3300 revenue distributed / Cr 2220 liability (the new credits are owed service).
 * At most the backing surplus (cash and member receivables over paid credits outstanding) can be
 * distributed, so distributed credits stay backed.
 */
export function distributeRevenue(pool: Pool, req: RevenueDistributionRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  if (req.shares.length === 0 || new Set(req.shares.map((s) => s.memberId)).size !== req.shares.length) {
    throw new BusinessError('VALIDATION_ERROR', 'shares must name each member once');
  }
  const bps = req.shares.map((s) => s.basisPoints);
  const remainderTo = req.remainderTo ?? bps.indexOf(Math.max(...bps));
  let parts: bigint[];
  try {
    parts = splitByBasisPoints(req.amount, bps, remainderTo);
  } catch (err) {
    throw err instanceof MoneyFormatError ? new BusinessError('VALIDATION_ERROR', err.message) : err;
  }
  const system = [{ cooperative: 'cloudIssued' as const }, { cooperative: 'distributions' as const }, { cooperative: 'creditsOutstanding' as const }, { cooperative: 'cash' as const }];
  const spec = {
    accounts: [...system, ...req.shares.map((s) => ({ member: s.memberId, account: 'wallet' as const }))],
    // Distributions of one cooperative queue on the distributions account, so two cannot spend the same surplus.
    lock: [1, ...req.shares.map((_, i) => system.length + i)],
  };
  return runIdempotent(pool, req.cooperativeId, 'revenue-distribution', req.idempotencyKey, { ...req, remainderTo }, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts }) => {
    const [issued, distributed, outstanding, cash] = accounts;
    const wallets = accounts.slice(system.length);
    const { rows } = await client.query<{ surplus: string }>(
      `SELECT (COALESCE(sum(b.balance) FILTER (WHERE a.code <> $3), 0) - COALESCE(sum(b.balance) FILTER (WHERE a.code = $3), 0))::text AS surplus
         FROM accounts a JOIN account_balances b ON b.account_id = a.id
        WHERE a.id IN ($1, $2) OR a.code = $4`,
      [cash!.id, outstanding!.id, outstanding!.code, MEMBER_ACCOUNTS.receivable.code],
    );
    // New paid credits need backing: only the surplus of cash and receivables over paid credits
    // outstanding (revenue earned and not yet distributed) can be distributed.
    const surplus = BigInt(rows[0]!.surplus);
    if (cloudToUsd(req.amount) > surplus) {
      throw new BusinessError('INSUFFICIENT_FUNDS', `Only ${formatMicros(surplus > 0n ? surplus : 0n)} USD of earned revenue is available to distribute`);
    }
    const id = randomUUID();
    const newLots: NewLot[] = [];
    req.shares.forEach((share, i) => {
      if (parts[i]! > 0n) {
        newLots.push({
          id: randomUUID(), accountId: wallets[i]!.id, memberId: share.memberId, source: 'distribution', sourceId: `${req.distributionId}:${share.memberId}`,
          category: 'paid', priority: 100, expiresAt: null, parentLotId: null, amount: parts[i]!,
        });
      }
    });
    const usd = cloudToUsd(req.amount);
    return writeTransaction(client, {
      id, cooperativeId, type: 'revenue_distribution', idempotencyKey, requestHash,
      metadata: {
        distributionId: req.distributionId,
        ...(req.rule ? { ruleId: req.rule.ruleId, ruleVersion: req.rule.version } : {}),
        remainderTo: req.shares[remainderTo]!.memberId,
        shares: req.shares.map((s, i) => ({ memberId: s.memberId, basisPoints: s.basisPoints, amount: formatMicros(parts[i]!) })),
      },
      entries: [debit(issued!, req.amount), ...req.shares.map((_, i) => credit(wallets[i]!, parts[i]!)), debit(distributed!, usd), credit(outstanding!, usd)],
      newLots,
      movements: newLots.map((l) => ({ lotId: l.id, amount: -l.amount })),
      events: [{ type: 'revenue.distributed', aggregateId: req.distributionId, payload: { transactionId: id, amount: formatMicros(req.amount), ...(req.rule ?? {}) } }],
    });
  });
}
