import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { compareForConsumption, takeInOrder } from '../../../domain/lots';
import { cloudToUsd, formatMicros } from '../../../domain/money';
import { consume } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';

export interface RefundClawbackRequest {
  cooperativeId: string;
  memberId: string;
  /** CLOUD whose payment was refunded or disputed. */
  amount: bigint;
  /** The payment's source id: its lot is clawed back first. */
  paymentSourceId: string;
  idempotencyKey: string;
}

/**
 * After a refund or dispute: takes back paid credits still available, expired-but-unretired ones
 * included (the refunded purchase's lot first, then the other paid lots in consumption order) and records the rest, already spent, as the member's debt.
 * CLOUD leg: Dr wallet / Cr 1900 for what is clawed back. USD leg: Dr 2220 (clawed back) and Dr 1200
 * member receivable (debt) / Cr 1110 cash for the whole refund.
 */
export function refundClawback(pool: Pool, req: RefundClawbackRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const spec = {
    accounts: [
      { member: req.memberId, account: 'wallet' as const },
      { member: req.memberId, account: 'receivable' as const },
      { cooperative: 'cloudIssued' as const },
      { cooperative: 'creditsOutstanding' as const },
      { cooperative: 'cash' as const },
    ],
    lock: [0, 1],
  };
  return runIdempotent(pool, req.cooperativeId, 'refund-clawback', req.idempotencyKey, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts, write }) => {
    const [wallet, receivable, issued, outstanding, cash] = accounts;
    // Only paid credits answer for a refunded payment (promotional credits are not the member's money),
    // including any past expiry that the expiry run has not retired yet: clawed back, not left as breakage.
    // Credits reserved by open holds stay with their holds.
    const { rows } = await client.query<{ id: string; priority: number; expires_at: Date | null; created_at: Date; available: bigint; source: string; source_id: string }>(
      `SELECT id, priority, expires_at, created_at, available, source, source_id FROM lots WHERE account_id = $1 AND available > 0 AND category = 'paid'`,
      [wallet!.id],
    );
    const lots = rows.map((r) => ({ id: r.id, priority: r.priority, expiresAt: r.expires_at, category: 'paid' as const, createdAt: r.created_at, available: r.available, own: r.source === 'purchase' && r.source_id === req.paymentSourceId }));
    // The refunded payment's own lot comes first, then the usual consumption order.
    lots.sort((a, b) => (a.own !== b.own ? (a.own ? -1 : 1) : compareForConsumption(a, b)));
    // What the paid lots do not cover was already spent: it becomes the member's debt.
    const { allocations, left: debt } = takeInOrder(lots, req.amount);
    const clawed = req.amount - debt;
    const id = randomUUID();
    return write({
      id, cooperativeId, type: 'refund_clawback', idempotencyKey, requestHash,
      metadata: { paymentSourceId: req.paymentSourceId, refunded: formatMicros(req.amount), clawedBack: formatMicros(clawed), debt: formatMicros(debt) },
      entries: [
        ...(clawed > 0n ? [debit(wallet!, clawed), credit(issued!, clawed), debit(outstanding!, cloudToUsd(clawed))] : []),
        ...(debt > 0n ? [debit(receivable!, cloudToUsd(debt))] : []),
        credit(cash!, cloudToUsd(req.amount)),
      ],
      lotChanges: consume(allocations),
      movements: allocations,
      events: [{ type: 'cloud.clawed_back', aggregateId: req.memberId, payload: { transactionId: id, memberId: req.memberId, paymentSourceId: req.paymentSourceId, clawedBack: formatMicros(clawed), debt: formatMicros(debt) } }],
    });
  });
}
