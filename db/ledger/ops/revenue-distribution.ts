import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../../../domain/errors';
import type { LedgerEntry } from '../../../domain/ledger-types';
import { cloudToUsd, formatMicros, MoneyFormatError, splitByBasisPoints } from '../../../domain/money';
import { MEMBER_ACCOUNTS } from '../../../domain/chart-of-accounts';
import { periodProblem, stakerShares, type Period, type StakerShare } from '../../../domain/staking-shares';
import { lockAccounts, resolveAccounts, type ResolvedAccount } from '../accounts';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction, type NewLot } from '../write-transaction';
import { toJsonParam } from '../../json';

export interface RevenueDistributionRequest {
  cooperativeId: string;
  distributionId: string;
  /** µCLOUD distributed in total. */
  amount: bigint;
  /** Shares paid to named members. */
  shares: Array<{ memberId: string; basisPoints: number }>;
  /** The stakers' share: paid to the positions committed within the period (domain/staking-shares.ts). */
  stakers?: { basisPoints: number; period: Period };
  /**
   * Index of the share that receives the rounding remainder: one of `shares`, or `shares.length` for
   * the stakers' share (default: the largest share, first on ties, the stakers' last).
   */
  remainderTo?: number;
  /**
   * What the caller asked for, which the idempotency key binds (default: the whole request). A caller
   * that fills in shares from the rule in force passes its own request here, so a retry after the rule
   * changed replays the first distribution instead of being refused as another request.
   */
  requested?: unknown;
  /** The governing revenue rule and its version, recorded on the transaction. */
  rule?: { ruleId: string; version: number };
  idempotencyKey: string;
}

type PositionRow = { id: string; member_id: string; amount: bigint; multiplier_bp: number; staked_at: Date; unlocks_at: Date; released_at: Date | null };

/** The positions committed at some time within the period, and what each is paid of `total`. */
async function stakersOf(client: PoolClient, total: bigint, period: Period): Promise<Array<StakerShare & { memberId: string }>> {
  const { rows } = await client.query<PositionRow>(
    `SELECT id, member_id, amount, multiplier_bp, staked_at, unlocks_at, released_at FROM staking_positions
      WHERE staked_at < $2 AND unlocks_at > $1 AND (released_at IS NULL OR released_at > $1)`,
    [period.from, period.to],
  );
  const memberOf = new Map(rows.map((r) => [r.id, r.member_id]));
  const positions = rows.map((r) => ({ id: r.id, amount: r.amount, multiplierBasisPoints: r.multiplier_bp, stakedAt: r.staked_at, unlocksAt: r.unlocks_at, releasedAt: r.released_at }));
  return stakerShares(total, positions, period).map((s) => ({ ...s, memberId: memberOf.get(s.positionId)! }));
}

/**
 * Distributes revenue to members as credits, split by basis points with a stated remainder owner so
 * the parts sum exactly to the whole. A stakers' share is split again over the positions committed
 * within the distribution's period, pro rata to amount × multiplier × time committed, by largest
 * remainder (domain/staking-shares.ts), and what each position got is recorded with it. CLOUD leg:
 * Dr 1900 / Cr each wallet (a `distribution` lot per member share and per position). USD leg:
 * Dr 3300 revenue distributed / Cr 2220 liability (the new credits are owed service). At most the
 * backing surplus (cash and member receivables over paid credits outstanding) can be distributed, so
 * distributed credits stay backed.
 */
export function distributeRevenue(pool: Pool, req: RevenueDistributionRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  if (req.shares.length + (req.stakers ? 1 : 0) === 0 || new Set(req.shares.map((s) => s.memberId)).size !== req.shares.length) {
    throw new BusinessError('VALIDATION_ERROR', 'shares must name each member once');
  }
  const periodIssue = req.stakers && periodProblem(req.stakers.period, new Date());
  if (periodIssue) throw new BusinessError('VALIDATION_ERROR', `the distribution's period ${periodIssue}`);
  const bps = [...req.shares.map((s) => s.basisPoints), ...(req.stakers ? [req.stakers.basisPoints] : [])];
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
  return runIdempotent(pool, req.cooperativeId, 'revenue-distribution', req.idempotencyKey, req.requested ?? { ...req, remainderTo }, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts }) => {
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
    const paid: Array<{ wallet: ResolvedAccount; memberId: string; sourceId: string; amount: bigint }> = req.shares.map((share, i) => ({
      wallet: wallets[i]!, memberId: share.memberId, sourceId: `${req.distributionId}:${share.memberId}`, amount: parts[i]!,
    }));
    const stakers = req.stakers ? await stakersOf(client, parts[req.shares.length]!, req.stakers.period) : [];
    if (stakers.length > 0) {
      const stakerWallets = await resolveAccounts(client, cooperativeId, stakers.map((s) => ({ member: s.memberId, account: 'wallet' as const })));
      await lockAccounts(client, stakerWallets.map((w) => w.id));
      stakers.forEach((s, i) => paid.push({ wallet: stakerWallets[i]!, memberId: s.memberId, sourceId: `${req.distributionId}:position:${s.positionId}`, amount: s.amount }));
    }
    const newLots: NewLot[] = paid
      .filter((p) => p.amount > 0n)
      .map((p) => ({
        id: randomUUID(), accountId: p.wallet.id, memberId: p.memberId, source: 'distribution', sourceId: p.sourceId,
        category: 'paid', priority: 100, expiresAt: null, parentLotId: null, amount: p.amount,
      }));
    const usd = cloudToUsd(req.amount);
    const entries: LedgerEntry[] = [debit(issued!, req.amount), ...paid.map((p) => credit(p.wallet, p.amount)), debit(distributed!, usd), credit(outstanding!, usd)];
    const stakersRecord = req.stakers && {
      basisPoints: req.stakers.basisPoints, amount: formatMicros(parts[req.shares.length]!), from: req.stakers.period.from.toISOString(), to: req.stakers.period.to.toISOString(), positions: stakers.length,
    };
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'revenue_distribution', idempotencyKey, requestHash,
      metadata: {
        distributionId: req.distributionId,
        ...(req.rule ? { ruleId: req.rule.ruleId, ruleVersion: req.rule.version } : {}),
        remainderTo: remainderTo === req.shares.length ? 'stakers' : req.shares[remainderTo]!.memberId,
        shares: req.shares.map((s, i) => ({ memberId: s.memberId, basisPoints: s.basisPoints, amount: formatMicros(parts[i]!) })),
        ...(stakersRecord ? { stakers: stakersRecord } : {}),
      },
      entries,
      newLots,
      movements: newLots.map((l) => ({ lotId: l.id, amount: -l.amount })),
      events: [{ type: 'revenue.distributed', aggregateId: req.distributionId, payload: { transactionId: id, amount: formatMicros(req.amount), ...(req.rule ?? {}), ...(stakersRecord ? { stakers: stakersRecord } : {}) } }],
    });
    if (stakers.length > 0) {
      await client.query(
        `INSERT INTO staking_revenue_shares (transaction_id, position_id, cooperative_id, distribution_id, committed_ms, basis_points, amount)
         SELECT $1, x.position_id, $2, $3, x.committed_ms, x.basis_points, x.amount
           FROM jsonb_to_recordset($4::jsonb) AS x(position_id uuid, committed_ms bigint, basis_points integer, amount bigint)`,
        [id, cooperativeId, req.distributionId, toJsonParam(stakers.map((s) => ({ position_id: s.positionId, committed_ms: s.committedMs, basis_points: s.basisPoints, amount: s.amount })))],
      );
    }
    return transaction;
  });
}
