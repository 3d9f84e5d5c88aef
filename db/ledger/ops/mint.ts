import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import type { LotSource } from '../../../domain/ledger-types';
import type { LotCategory } from '../../../domain/lots';
import { cloudToUsd, formatMicros } from '../../../domain/money';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';

export interface MintRequest {
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  /** A card purchase (cash received) or a grant (promotional, no cash). */
  source: Extract<LotSource, 'purchase' | 'grant'>;
  /** The payment or grant id: one lot per source id, so one payment can never mint twice. */
  sourceId: string;
  category?: LotCategory;
  priority?: number;
  expiresAt?: Date | null;
  idempotencyKey: string;
  metadata?: Record<string, string>;
}

/**
 * Issues credits as a lot. CLOUD leg: Dr 1900 CLOUD Issued / Cr member wallet. USD leg: paid credits
 * are Dr 1110 cash / Cr 2220 liability; promotional ones Dr 5900 promotional expense / Cr 2230.
 */
export function mint(pool: Pool, req: MintRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const category = req.category ?? (req.source === 'purchase' ? 'paid' : 'promotional');
  if (req.source === 'purchase' && category !== 'paid') throw new BusinessError('VALIDATION_ERROR', 'purchased credits are paid credits');
  const request = { ...req, category, priority: req.priority ?? 100, expiresAt: req.expiresAt ?? null };
  const spec = {
    accounts: [
      { member: req.memberId, account: 'wallet' as const },
      { cooperative: 'cloudIssued' as const },
      { cooperative: category === 'paid' ? ('cash' as const) : ('promotionalCredits' as const) },
      { cooperative: category === 'paid' ? ('creditsOutstanding' as const) : ('promotionalOutstanding' as const) },
    ],
    lock: [0],
  };
  return runIdempotent(pool, req.cooperativeId, 'mint', req.idempotencyKey, request, spec, async ({ cooperativeId, idempotencyKey, requestHash, accounts, write }) => {
    const [wallet, issued, funding, outstanding] = accounts;
    const id = randomUUID();
    const lotId = randomUUID();
    const usd = cloudToUsd(req.amount);
    return write({
      id, cooperativeId, type: 'mint', idempotencyKey, requestHash,
      metadata: { source: req.source, sourceId: req.sourceId, lotId, ...req.metadata },
      entries: [debit(issued!, req.amount), credit(wallet!, req.amount), debit(funding!, usd), credit(outstanding!, usd)],
      newLots: [{
        id: lotId, accountId: wallet!.id, memberId: req.memberId, source: req.source, sourceId: req.sourceId, category,
        priority: request.priority, expiresAt: request.expiresAt, parentLotId: null, amount: req.amount,
      }],
      movements: [{ lotId, amount: -req.amount }],
      events: [{ type: 'cloud.minted', aggregateId: req.memberId, payload: { transactionId: id, memberId: req.memberId, amount: formatMicros(req.amount), source: req.source, sourceId: req.sourceId } }],
    });
  });
}
