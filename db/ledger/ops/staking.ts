import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { formatMicros } from '../../../domain/money';
import type { StakingPositionStatus } from '../../../domain/staking';
import { lockAccounts, resolveAccounts } from '../accounts';
import { allocateOrFail, consume } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction } from '../write-transaction';

export interface StakeRequest {
  cooperativeId: string;
  memberId: string;
  positionId: string;
  amount: bigint;
  idempotencyKey: string;
}

/** Moves credits from the wallet (lots consumed in order) to the member's staking account, opening a position. */
export function stake(pool: Pool, req: StakeRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const spec = { accounts: [{ member: req.memberId, account: 'wallet' as const }, { member: req.memberId, account: 'staking' as const }], lock: [0, 1], lotsOf: 0 };
  return runIdempotent(pool, req.cooperativeId, 'stake', req.idempotencyKey, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, now, accounts, lots }) => {
    const [wallet, staking] = accounts;
    // Only paid credits can be staked: promotional ones are for service use (and their liability is 2230).
    const paidLots = (await lots()).filter((l) => l.category === 'paid');
    const allocations = allocateOrFail(paidLots, req.amount, now);
    const id = randomUUID();
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'stake', idempotencyKey, requestHash,
      metadata: { positionId: req.positionId },
      entries: [debit(wallet!, req.amount), credit(staking!, req.amount)],
      lotChanges: consume(allocations),
      movements: allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
      events: [{ type: 'cloud.staked', aggregateId: req.positionId, payload: { transactionId: id, memberId: req.memberId, positionId: req.positionId, amount: formatMicros(req.amount) } }],
    });
    await client.query(
      `INSERT INTO staking_positions (id, cooperative_id, member_id, amount, status, stake_transaction) VALUES ($1, $2, $3, $4, 'active', $5)`,
      [req.positionId, cooperativeId, req.memberId, req.amount, id],
    );
    return transaction;
  });
}

export interface UnstakeRequest {
  cooperativeId: string;
  positionId: string;
  idempotencyKey: string;
}

/** Returns a position's credits to the wallet as a new lot (source `unstake`) and releases the position. */
export function unstake(pool: Pool, req: UnstakeRequest): Promise<LedgerResult> {
  requireKey(req.idempotencyKey);
  return runIdempotent(pool, req.cooperativeId, 'unstake', req.idempotencyKey, req, { accounts: [] }, async ({ client, cooperativeId, idempotencyKey, requestHash }) => {
    const found = await client.query<{ member_id: string }>('SELECT member_id FROM staking_positions WHERE id = $1', [req.positionId]);
    if (!found.rows[0]) throw new BusinessError('NOT_FOUND', 'Staking position not found');
    const memberId = found.rows[0].member_id;
    const [wallet, staking] = await resolveAccounts(client, cooperativeId, [
      { member: memberId, account: 'wallet' },
      { member: memberId, account: 'staking' },
    ]);
    await lockAccounts(client, [wallet!.id, staking!.id]);
    const { rows } = await client.query<{ amount: bigint; status: StakingPositionStatus }>('SELECT amount, status FROM staking_positions WHERE id = $1', [req.positionId]);
    const position = rows[0]!;
    if (position.status !== 'active') throw new BusinessError('CONFLICT', 'Staking position is already released');
    const id = randomUUID();
    const lotId = randomUUID();
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'unstake', idempotencyKey, requestHash,
      metadata: { positionId: req.positionId },
      entries: [debit(staking!, position.amount), credit(wallet!, position.amount)],
      newLots: [{ id: lotId, accountId: wallet!.id, memberId, source: 'unstake', sourceId: req.positionId, category: 'paid', priority: 100, expiresAt: null, parentLotId: null, amount: position.amount }],
      movements: [{ lotId, amount: -position.amount }],
      events: [{ type: 'cloud.unstaked', aggregateId: req.positionId, payload: { transactionId: id, memberId, positionId: req.positionId, amount: formatMicros(position.amount) } }],
    });
    await client.query(`UPDATE staking_positions SET status = 'released', unstake_transaction = $2, released_at = now() WHERE id = $1`, [req.positionId, id]);
    return transaction;
  });
}
