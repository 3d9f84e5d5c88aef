import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { allocate, compareForConsumption, takeInOrder, type LotCategory } from '../../../domain/lots';
import { cloudToUsd, formatMicros } from '../../../domain/money';
import { releaseAt, releaseKey, termOf, unlockInstant, type StakingPositionStatus, type StakingReleasedBy } from '../../../domain/staking';
import { findPosition } from '../../staking-positions';
import { readStakingTerms } from '../../staking-terms';
import { consume } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction, type NewLot } from '../write-transaction';

export interface StakeRequest {
  cooperativeId: string;
  memberId: string;
  /** The new position's id; a replay of the key returns the first request's position instead. */
  positionId: string;
  amount: bigint;
  /** One of the cooperative's terms (its defaults when it has set none). */
  termDays: number;
  /**
   * When the lock starts, on the clock of whoever starts the position's workflow (the API), which
   * holds the timer to the unlock instant: both must agree on when that is.
   */
  stakedAt: Date;
  idempotencyKey: string;
}

export interface StakeResult extends LedgerResult {
  positionId: string;
}

/**
 * Moves credits from the wallet to the member's staking account and opens a position under one of
 * the cooperative's terms, which the position keeps (multiplier, auto-release, early-exit penalty).
 * Only paid credits can be staked (promotional ones are for service use), and only lots still valid
 * at the unlock instant: the credits come back with the expiry they left with (unstake below), so a
 * lot that would expire while locked stays in the wallet. The lots consumed are recorded as the stake
 * transaction's lot movements.
 */
export async function stake(pool: Pool, req: StakeRequest): Promise<StakeResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  if (Number.isNaN(req.stakedAt.getTime())) throw new BusinessError('VALIDATION_ERROR', 'stakedAt must be a time');
  const spec = { accounts: [{ member: req.memberId, account: 'wallet' as const }, { member: req.memberId, account: 'staking' as const }], lock: [0, 1], lotsOf: 0 };
  // What the member asked for: a retry with the same key gets the first position, wherever its id and instant came from.
  const request = { memberId: req.memberId, amount: req.amount, termDays: req.termDays };
  const result = await runIdempotent(pool, req.cooperativeId, 'stake', req.idempotencyKey, request, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, now, accounts, lots }) => {
    const [wallet, staking] = accounts;
    const term = termOf((await readStakingTerms(client)).terms, req.termDays);
    const unlocksAt = unlockInstant(req.stakedAt, term.days);
    const eligible = (await lots()).filter((l) => l.category === 'paid' && (l.expiresAt === null || l.expiresAt.getTime() > unlocksAt.getTime()));
    const allocated = allocate(eligible, req.amount, now);
    if ('shortfall' in allocated) {
      throw new BusinessError('INSUFFICIENT_FUNDS', `Only paid credits still valid at the unlock instant can be staked: ${formatMicros(allocated.shortfall)} CLOUD short`);
    }
    const id = randomUUID();
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'stake', idempotencyKey, requestHash,
      metadata: { positionId: req.positionId, termDays: term.days, unlocksAt: unlocksAt.toISOString() },
      entries: [debit(wallet!, req.amount), credit(staking!, req.amount)],
      lotChanges: consume(allocated.allocations),
      movements: allocated.allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
      events: [{
        type: 'cloud.staked', aggregateId: req.positionId,
        payload: { transactionId: id, memberId: req.memberId, positionId: req.positionId, amount: formatMicros(req.amount), termDays: term.days, unlocksAt: unlocksAt.toISOString() },
      }],
    });
    await client.query(
      `INSERT INTO staking_positions (id, cooperative_id, member_id, amount, status, stake_transaction, term_days, multiplier_bp, auto_release, early_exit_penalty_bp, staked_at, unlocks_at)
       VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10, $11)`,
      [req.positionId, cooperativeId, req.memberId, req.amount, id, term.days, term.multiplierBasisPoints, term.autoRelease, term.earlyExitPenaltyBasisPoints, req.stakedAt, unlocksAt],
    );
    return transaction;
  });
  return { ...result, positionId: result.transaction.metadata.positionId as string };
}

export interface UnstakeRequest {
  cooperativeId: string;
  positionId: string;
  /** When the release happens, on the clock of the position's workflow, which holds its lock. */
  at: Date;
  /** Leave before the unlock instant, forfeiting the term's penalty (only where the term allows it). */
  earlyExit?: boolean;
  releasedBy: StakingReleasedBy;
}

type PositionRow = {
  amount: bigint;
  status: StakingPositionStatus;
  unlocks_at: Date;
  early_exit_penalty_bp: number | null;
  stake_transaction: string;
};

type MovedLot = { lot_id: string; amount: bigint; category: LotCategory; priority: number; expires_at: Date | null; created_at: Date };

/**
 * Returns a position's credits to the wallet, once: under the position's own key (releaseKey), so the
 * member's request and the auto-release, whichever comes second, replay the first. Before the unlock
 * instant only an early exit its term allows releases it (domain/staking.ts releaseAt); the database
 * refuses any other early release too. The credits come back as the lots they left: one new lot per
 * lot the stake consumed, with its category, priority and expiry and that lot as its parent. An early
 * exit's penalty is taken from those lots in consumption order and retired as breakage: CLOUD leg
 * Cr 1900 CLOUD Issued, USD leg Dr 2220 (staked credits are paid credits) / Cr 4490.
 */
export async function unstake(pool: Pool, req: UnstakeRequest): Promise<LedgerResult> {
  if (Number.isNaN(req.at.getTime())) throw new BusinessError('VALIDATION_ERROR', 'at must be a time');
  // A position's member never changes, so it is read first: the runner then locks the member's
  // accounts before it probes the key, and a release racing another one waits and replays it.
  const memberId = (await findPosition(pool, req.cooperativeId, req.positionId))?.memberId;
  if (!memberId) throw new BusinessError('NOT_FOUND', 'Staking position not found');
  const spec = {
    accounts: [
      { member: memberId, account: 'wallet' as const },
      { member: memberId, account: 'staking' as const },
      { cooperative: 'cloudIssued' as const },
      { cooperative: 'creditsOutstanding' as const },
      { cooperative: 'breakageRevenue' as const },
    ],
    lock: [0, 1],
  };
  return runIdempotent(pool, req.cooperativeId, 'unstake', releaseKey(req.positionId), { positionId: req.positionId }, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts }) => {
    const [wallet, staking, issued, outstanding, breakage] = accounts;
    const { rows } = await client.query<PositionRow>('SELECT amount, status, unlocks_at, early_exit_penalty_bp, stake_transaction FROM staking_positions WHERE id = $1', [req.positionId]);
    const position = rows[0]!;
    if (position.status !== 'active') throw new BusinessError('CONFLICT', 'Staking position is already released');
    const release = releaseAt({ amount: position.amount, unlocksAt: position.unlocks_at, earlyExitPenaltyBasisPoints: position.early_exit_penalty_bp }, req.at, req.earlyExit === true);

    const { rows: moved } = await client.query<MovedLot>(
      `SELECT m.lot_id, m.amount, l.category, l.priority, l.expires_at, l.created_at FROM lot_movements m JOIN lots l ON l.id = m.lot_id
        WHERE m.transaction_id = $1 AND m.amount > 0`,
      [position.stake_transaction],
    );
    const inOrder = moved
      .map((m) => ({ id: m.lot_id, priority: m.priority, expiresAt: m.expires_at, category: m.category, createdAt: m.created_at, available: m.amount }))
      .sort(compareForConsumption);
    const forfeited = new Map(takeInOrder(inOrder, release.penalty).allocations.map((a) => [a.lotId, a.amount]));
    const id = randomUUID();
    const restored: NewLot[] = moved
      .map((m) => ({
        id: randomUUID(), accountId: wallet!.id, memberId, source: 'unstake' as const, sourceId: `${req.positionId}:${m.lot_id}`,
        category: m.category, priority: m.priority, expiresAt: m.expires_at, parentLotId: m.lot_id, amount: m.amount - (forfeited.get(m.lot_id) ?? 0n),
      }))
      .filter((l) => l.amount > 0n);
    const returned = position.amount - release.penalty;
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'unstake', idempotencyKey, requestHash,
      metadata: { positionId: req.positionId, kind: release.kind, releasedBy: req.releasedBy, returned: formatMicros(returned), ...(release.kind === 'early_exit' ? { penalty: formatMicros(release.penalty) } : {}) },
      entries: [
        debit(staking!, position.amount),
        credit(wallet!, returned),
        credit(issued!, release.penalty),
        debit(outstanding!, cloudToUsd(release.penalty)),
        credit(breakage!, cloudToUsd(release.penalty)),
      ],
      newLots: restored,
      movements: restored.map((l) => ({ lotId: l.id, amount: -l.amount })),
      events: [{
        type: 'cloud.unstaked', aggregateId: req.positionId,
        payload: { transactionId: id, memberId, positionId: req.positionId, amount: formatMicros(returned), kind: release.kind, releasedBy: req.releasedBy, ...(release.kind === 'early_exit' ? { penalty: formatMicros(release.penalty) } : {}) },
      }],
    });
    await client.query(
      `UPDATE staking_positions SET status = 'released', unstake_transaction = $2, released_at = $3, release_kind = $4, penalty = $5 WHERE id = $1`,
      [req.positionId, id, req.at, release.kind, release.kind === 'early_exit' ? release.penalty : null],
    );
    return transaction;
  });
}
