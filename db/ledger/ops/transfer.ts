import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { formatMicros } from '../../../domain/money';
import { allocateOrFail, consume } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction, type NewLot } from '../write-transaction';

export interface TransferRequest {
  cooperativeId: string;
  fromMemberId: string;
  toMemberId: string;
  amount: bigint;
  idempotencyKey: string;
  memo?: string;
}

/**
 * Moves credits between two members of a cooperative: Dr sender wallet / Cr receiver wallet. The
 * sender's lots are consumed in order, and the receiver gets one lot per lot consumed, carrying its
 * expiry, category and priority (lineage through parent_lot_id).
 */
export function transfer(pool: Pool, req: TransferRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  if (req.fromMemberId === req.toMemberId) throw new BusinessError('VALIDATION_ERROR', 'A transfer needs two different members');
  const spec = { accounts: [{ member: req.fromMemberId, account: 'wallet' as const }, { member: req.toMemberId, account: 'wallet' as const }], lock: [0, 1], lotsOf: 0 };
  return runIdempotent(pool, req.cooperativeId, 'transfer', req.idempotencyKey, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, now, accounts, lots: spendable }) => {
    const [from, to] = accounts;
    const lots = await spendable(req.amount);
    const allocations = allocateOrFail(lots, req.amount, now);
    const id = randomUUID();
    const byId = new Map(lots.map((l) => [l.id, l]));
    const received: NewLot[] = allocations.map((a) => {
      const origin = byId.get(a.lotId)!;
      return {
        id: randomUUID(), accountId: to!.id, memberId: req.toMemberId, source: 'transfer_in', sourceId: `${id}:${a.lotId}`,
        category: origin.category, priority: origin.priority, expiresAt: origin.expiresAt, parentLotId: a.lotId, amount: a.amount,
      };
    });
    return writeTransaction(client, {
      id, cooperativeId, type: 'transfer', idempotencyKey, requestHash,
      metadata: { fromMemberId: req.fromMemberId, toMemberId: req.toMemberId, ...(req.memo ? { memo: req.memo } : {}) },
      entries: [debit(from!, req.amount), credit(to!, req.amount)],
      lotChanges: consume(allocations),
      newLots: received,
      movements: [...allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })), ...received.map((l) => ({ lotId: l.id, amount: -l.amount }))],
      events: [{ type: 'cloud.transferred', aggregateId: req.fromMemberId, payload: { transactionId: id, fromMemberId: req.fromMemberId, toMemberId: req.toMemberId, amount: formatMicros(req.amount) } }],
    });
  });
}
