import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { formatMicros } from '../../../domain/money';
import { allocateOrFail, categoryOf, consume } from '../lots';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { retireAccountRefs, retirePostings, splitByCategory, toRetireAccounts } from './retire';

export interface BurnRequest {
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  reason: string;
  /** Who burned them (an operator's subject), recorded on the transaction beside its time. */
  actor?: string;
  idempotencyKey: string;
}

/** Destroys credits without service (forfeit, policy): the liability becomes breakage revenue. */
export function burn(pool: Pool, req: BurnRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const spec = { accounts: retireAccountRefs(req.memberId, 'breakage'), lock: [0], lotsOf: 0 };
  return runIdempotent(pool, req.cooperativeId, 'burn', req.idempotencyKey, req, spec, async ({ cooperativeId, idempotencyKey, requestHash, now, accounts: resolved, lots: spendable, write }) => {
    const accounts = toRetireAccounts(resolved);
    const lots = await spendable(req.amount);
    const allocations = allocateOrFail(lots, req.amount, now);
    const id = randomUUID();
    return write({
      id, cooperativeId, type: 'burn', idempotencyKey, requestHash,
      metadata: { reason: req.reason, ...(req.actor ? { actor: req.actor } : {}) },
      entries: retirePostings(accounts, splitByCategory(allocations, categoryOf(lots))),
      lotChanges: consume(allocations),
      movements: allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
      events: [{ type: 'cloud.burned', aggregateId: req.memberId, payload: { transactionId: id, memberId: req.memberId, amount: formatMicros(req.amount), reason: req.reason, ...(req.actor ? { actor: req.actor } : {}) } }],
    });
  });
}
