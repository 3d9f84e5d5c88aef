import type { Pool, PoolClient } from 'pg';
import { checkCorrectable, correctionAmount, needsSecondApproval, type Correction, type CorrectionStatus } from '../domain/corrections';
import { BusinessError } from '../domain/errors';
import { formatMicros } from '../domain/money';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { findTransaction } from './ledger/replay';
import { recordEvent } from './outbox';
import { inTenantTransaction } from './transaction';

interface Row {
  id: string;
  cooperative_id: string;
  transaction_id: string;
  amount: bigint;
  reason: string;
  requires_approval: boolean;
  status: CorrectionStatus;
  proposed_by: string;
  proposed_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  correction_transaction: string | null;
  request_hash: string;
  micros: string;
}

const SELECT = `SELECT c.*, ${creationPosition.micros('c.proposed_at')} AS micros FROM corrections c`;

const toCorrection = (r: Row): Correction => ({
  id: r.id, cooperativeId: r.cooperative_id, transactionId: r.transaction_id, amount: r.amount, reason: r.reason, requiresApproval: r.requires_approval,
  status: r.status, proposedBy: r.proposed_by, proposedAt: r.proposed_at.toISOString(), decidedBy: r.decided_by, decidedAt: r.decided_at?.toISOString() ?? null,
  decisionReason: r.decision_reason, correctionTransactionId: r.correction_transaction,
});

export interface CorrectionProposal {
  id: string;
  cooperativeId: string;
  transactionId: string;
  reason: string;
  proposedBy: string;
  /** µCLOUD above which a second operator must approve (CORRECTION_APPROVAL_THRESHOLD). */
  threshold: bigint;
  idempotencyKey: string;
}

/**
 * Records an operator's correction of a transaction, idempotent by key, as `proposed`: the transaction
 * must exist, be of a correctable type and not be corrected or under correction already. Whether a
 * second operator must approve it follows from what it moves (domain/corrections.ts); one that must
 * is announced (`correction.proposed`). Nothing in the ledger changes yet.
 */
export function proposeCorrection(pool: Pool, p: CorrectionProposal): Promise<{ correction: Correction; created: boolean }> {
  const hash = requestHash('correction', { transactionId: p.transactionId, reason: p.reason });
  return inTenantTransaction(pool, p.cooperativeId, async (client) => {
    const read = async (where: string, value: string) => (await client.query<Row>(`${SELECT} WHERE ${where}`, [value])).rows[0];
    const { row, replayed } = await idempotent(
      p.idempotencyKey,
      hash,
      () => read('c.idempotency_key = $1', p.idempotencyKey),
      async () => {
        const target = await findTransaction(client, p.transactionId);
        if (!target) throw new BusinessError('NOT_FOUND', 'Transaction not found');
        checkCorrectable(target.type);
        if ((await client.query('SELECT 1 FROM transactions WHERE reverses_transaction_id = $1', [target.id])).rows[0]) throw new BusinessError('CONFLICT', `Transaction ${target.id} was already corrected`);
        const amount = correctionAmount(target.entries);
        const requiresApproval = needsSecondApproval(amount, p.threshold);
        await client.query(
          `INSERT INTO corrections (id, cooperative_id, transaction_id, amount, reason, requires_approval, status, proposed_by, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8, $9)`,
          [p.id, p.cooperativeId, target.id, amount, p.reason, requiresApproval, p.proposedBy, p.idempotencyKey, hash],
        );
        if (requiresApproval) {
          await recordEvent(client, p.cooperativeId, {
            type: 'correction.proposed', aggregateId: p.id,
            payload: { correctionId: p.id, transactionId: target.id, amount: formatMicros(amount), reason: p.reason, proposedBy: p.proposedBy },
          });
        }
        return (await read('c.id = $1', p.id))!;
      },
    );
    return { correction: toCorrection(row), created: !replayed };
  });
}

/** Marks a proposed correction applied by its reversing transaction, inside that transaction (db/ledger/ops/correction.ts). */
export async function markApplied(client: PoolClient, correctionId: string, transactionId: string, approvedBy: string | null): Promise<void> {
  const { rowCount } = await client.query(
    `UPDATE corrections SET status = 'applied', decided_by = $3, decided_at = now(), correction_transaction = $2 WHERE id = $1 AND status = 'proposed'`,
    [correctionId, transactionId, approvedBy],
  );
  if (rowCount === 0) throw new BusinessError('CONFLICT', 'The correction is no longer proposed');
}

/**
 * Closes a proposed correction unapplied: rejected by an operator (with the reason) or expired when
 * nobody approved it in time. A repeat of the same close changes nothing; any other is CONFLICT.
 */
export function closeCorrection(
  pool: Pool,
  c: { cooperativeId: string; correctionId: string; status: Extract<CorrectionStatus, 'rejected' | 'expired'>; decidedBy: string | null; reason: string | null },
): Promise<Correction> {
  return inTenantTransaction(pool, c.cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(
      `UPDATE corrections SET status = $2, decided_by = $3, decision_reason = $4, decided_at = now() WHERE id = $1 AND status = 'proposed'
       RETURNING *, ${creationPosition.micros('proposed_at')} AS micros`,
      [c.correctionId, c.status, c.decidedBy, c.reason],
    );
    if (rows[0]) {
      await recordEvent(client, c.cooperativeId, {
        type: c.status === 'rejected' ? 'correction.rejected' : 'correction.expired', aggregateId: c.correctionId,
        payload: { correctionId: c.correctionId, decidedBy: c.decidedBy, reason: c.reason },
      });
      return toCorrection(rows[0]);
    }
    const current = (await client.query<Row>(`${SELECT} WHERE c.id = $1`, [c.correctionId])).rows[0];
    if (!current) throw new BusinessError('NOT_FOUND', 'Correction not found');
    if (current.status !== c.status) throw new BusinessError('CONFLICT', `The correction is ${current.status}`);
    return toCorrection(current);
  });
}

export function findCorrection(pool: Pool, cooperativeId: string, correctionId: string): Promise<Correction | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(`${SELECT} WHERE c.id = $1`, [correctionId]);
    return rows[0] && toCorrection(rows[0]);
  });
}

/** The cooperative's corrections, newest first, by status, paginated by cursor. */
export function listCorrections(pool: Pool, cooperativeId: string, filter: { status?: CorrectionStatus }, options: { limit: number; cursor?: string }): Promise<Page<Correction>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(
      `${SELECT} WHERE ($1::text IS NULL OR c.status = $1) AND ${creationPosition.after('c.proposed_at', 'c.id', '$3', '$4')}
        ORDER BY c.proposed_at DESC, c.id DESC LIMIT $2`,
      [filter.status ?? null, options.limit + 1, after?.micros ?? null, after?.id ?? null],
    );
    return toPage(rows, options.limit, (r) => [r.micros, r.id], toCorrection);
  });
}
