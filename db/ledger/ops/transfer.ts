import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { formatMicros } from '../../../domain/money';
import { lotKey, type LotCategory } from '../../../domain/lots';
import type { ResolvedAccount } from '../accounts';
import { allocateOrFail, consume, mergeTargetsStatement } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import type { LotChange, NewLot } from '../write-transaction';

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
 * sender's lots are consumed in order; what the receiver gets keeps each consumed lot's expiry,
 * category and priority, added to the receiver's open received lot with the same ones when there is one,
 * otherwise in a new lot (lineage through parent_lot_id and lot_movements). Merging keeps a wallet's lot
 * count bounded by its distinct lot keys however many transfers it receives.
 */
export function transfer(pool: Pool, req: TransferRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  if (req.fromMemberId === req.toMemberId) throw new BusinessError('VALIDATION_ERROR', 'A transfer needs two different members');
  const spec = {
    accounts: [{ member: req.fromMemberId, account: 'wallet' as const }, { member: req.toMemberId, account: 'wallet' as const }],
    lock: [0, 1],
    lotsOf: 0,
    reads: (accounts: ResolvedAccount[]) => [mergeTargetsStatement(accounts[1]!.id)],
  };
  return runIdempotent(pool, req.cooperativeId, 'transfer', req.idempotencyKey, req, spec, async ({ cooperativeId, idempotencyKey, requestHash, now, accounts, lots: spendable, reads, write }) => {
    const [from, to] = accounts;
    const lots = await spendable(req.amount);
    const allocations = allocateOrFail(lots, req.amount, now);
    const id = randomUUID();
    const byId = new Map(lots.map((l) => [l.id, l]));
    type Target = { id: string; category: LotCategory; priority: number; expires_at: Date | null };
    const existing = new Map((reads[0]!.rows as Target[]).map((t) => [lotKey({ category: t.category, priority: t.priority, expiresAt: t.expires_at }), t.id]));
    const merged = new Map<string, bigint>();
    const received = new Map<string, NewLot>();
    for (const a of allocations) {
      const origin = byId.get(a.lotId)!;
      const key = lotKey(origin);
      const target = existing.get(key);
      if (target) merged.set(target, (merged.get(target) ?? 0n) + a.amount);
      else if (received.has(key)) received.get(key)!.amount += a.amount;
      else {
        received.set(key, {
          id: randomUUID(), accountId: to!.id, memberId: req.toMemberId, source: 'transfer_in', sourceId: `${id}:${a.lotId}`,
          category: origin.category, priority: origin.priority, expiresAt: origin.expiresAt, parentLotId: a.lotId, amount: a.amount,
        });
      }
    }
    const newLots = [...received.values()];
    const grown: LotChange[] = [...merged].map(([lotId, amount]) => ({ lotId, original: amount, available: amount, reserved: 0n, consumed: 0n }));
    return write({
      id, cooperativeId, type: 'transfer', idempotencyKey, requestHash,
      metadata: { fromMemberId: req.fromMemberId, toMemberId: req.toMemberId, ...(req.memo ? { memo: req.memo } : {}) },
      entries: [debit(from!, req.amount), credit(to!, req.amount)],
      lotChanges: [...consume(allocations), ...grown],
      newLots,
      movements: [
        ...allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
        ...grown.map((g) => ({ lotId: g.lotId, amount: -g.available })),
        ...newLots.map((l) => ({ lotId: l.id, amount: -l.amount })),
      ],
      events: [{ type: 'cloud.transferred', aggregateId: req.fromMemberId, payload: { transactionId: id, fromMemberId: req.fromMemberId, toMemberId: req.toMemberId, amount: formatMicros(req.amount) } }],
    });
  });
}
