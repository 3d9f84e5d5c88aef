import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { MEMBER_ACCOUNTS } from '../../../domain/chart-of-accounts';
import { checkCorrectable, correctionKey } from '../../../domain/corrections';
import type { LotCategory } from '../../../domain/lots';
import { findCorrection, markApplied } from '../../corrections';
import { memberAccountRef } from '../accounts';
import { findTransaction } from '../replay';
import { inTenantTransaction } from '../../transaction';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { writeTransaction, type LotChange, type NewLot } from '../write-transaction';

export interface CorrectionRequest {
  cooperativeId: string;
  transactionId: string;
  reason: string;
  idempotencyKey: string;
  /**
   * The operators' correction this applies (db/corrections.ts), marked applied in the same transaction,
   * with the second operator who approved it (null when its amount needed none).
   */
  correction?: { id: string; proposedBy: string; approvedBy: string | null };
}

/**
 * Reverses a transaction with a new one whose entries are the originals negated; history is never
 * edited. Lots follow: credits the original put into lots are taken back out of those lots (refused
 * if already spent: use a clawback), and credits it took from lots come back as new lots carrying the
 * originals' expiry, category and priority. A transaction is reversed at most once.
 */
export async function correct(pool: Pool, req: CorrectionRequest): Promise<LedgerResult> {
  requireKey(req.idempotencyKey);
  // History never changes, so the original is read first: the runner then locks its members' accounts
  // before it probes the key, and a correction racing its twin waits and replays it.
  const original = await inTenantTransaction(pool, req.cooperativeId, (client) => findTransaction(client, req.transactionId));
  if (!original) throw new BusinessError('NOT_FOUND', 'Transaction not found');
  const members = original.entries.filter((e) => e.memberId !== null).map((e) => memberAccountRef(e.memberId!, e.accountCode));
  return runIdempotent(pool, req.cooperativeId, 'correction', req.idempotencyKey, req, { accounts: members, lock: members.map((_, i) => i) }, async ({ client, cooperativeId, idempotencyKey, requestHash }) => {
    checkCorrectable(original.type);
    const reversed = await client.query('SELECT id FROM transactions WHERE reverses_transaction_id = $1', [original.id]);
    if (reversed.rows[0]) throw new BusinessError('CONFLICT', `Transaction ${original.id} was already corrected`);

    const { rows: moved } = await client.query<{ lot_id: string; amount: bigint; available: bigint; account_id: string; member_id: string; category: LotCategory; priority: number; expires_at: Date | null }>(
      `SELECT m.lot_id, m.amount, l.available, l.account_id, l.member_id, l.category, l.priority, l.expires_at
         FROM lot_movements m JOIN lots l ON l.id = m.lot_id WHERE m.transaction_id = $1 ORDER BY m.lot_id`,
      [original.id],
    );
    const id = randomUUID();
    const lotChanges: LotChange[] = [];
    const newLots: NewLot[] = [];
    for (const m of moved) {
      if (m.amount < 0n) {
        const back = -m.amount;
        if (m.available < back) throw new BusinessError('INSUFFICIENT_FUNDS', 'Credits from this transaction were already spent; a correction cannot take them back');
        lotChanges.push({ lotId: m.lot_id, available: -back, reserved: 0n, consumed: back });
      } else {
        newLots.push({
          id: randomUUID(), accountId: m.account_id, memberId: m.member_id, source: 'correction', sourceId: `${id}:${m.lot_id}`,
          category: m.category, priority: m.priority, expiresAt: m.expires_at, parentLotId: m.lot_id, amount: m.amount,
        });
      }
    }
    const walletCode = MEMBER_ACCOUNTS.wallet.code;
    const by = req.correction;
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'correction', idempotencyKey, requestHash, reversesTransactionId: original.id,
      metadata: { reverses: original.id, reversedType: original.type, reason: req.reason, ...(by ? { correctionId: by.id, proposedBy: by.proposedBy, approvedBy: by.approvedBy } : {}) },
      entries: original.entries.map((e) => ({ ...e, amount: -e.amount })),
      lotChanges,
      newLots,
      movements: [...lotChanges.map((c) => ({ lotId: c.lotId, amount: c.consumed })), ...newLots.map((l) => ({ lotId: l.id, amount: -l.amount }))],
      events: [{ type: 'cloud.corrected', aggregateId: original.id, payload: { transactionId: id, reverses: original.id, reason: req.reason, walletsTouched: original.entries.filter((e) => e.accountCode === walletCode).length } }],
    });
    if (by) await markApplied(client, by.id, id, by.approvedBy);
    return transaction;
  });
}

/**
 * Applies an operators' correction (db/corrections.ts) under its own key, so it is applied once
 * whoever applies it: the API when its amount needs no second operator, its workflow when a second
 * operator approves it. A correction rejected or expired meanwhile is refused (CONFLICT).
 */
export async function applyCorrection(pool: Pool, cooperativeId: string, correctionId: string, approvedBy: string | null): Promise<LedgerResult> {
  const found = await findCorrection(pool, cooperativeId, correctionId);
  if (!found) throw new BusinessError('NOT_FOUND', 'Correction not found');
  return correct(pool, {
    cooperativeId, transactionId: found.transactionId, reason: found.reason, idempotencyKey: correctionKey(found.id),
    correction: { id: found.id, proposedBy: found.proposedBy, approvedBy },
  });
}
