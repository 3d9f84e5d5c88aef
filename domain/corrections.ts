import { BusinessError } from './errors';
import type { LedgerEntry, TransactionType } from './ledger-types';
import { USD_MICROS_PER_CLOUD_MICRO } from './money';

/**
 * An operator's correction of a ledger transaction: a new transaction reversing it (history is never
 * edited). One above the configured threshold (CORRECTION_APPROVAL_THRESHOLD) waits for a second operator (four eyes) in
 * its `correction:<id>` workflow; it is rejected, or expires unapplied, when nobody approves it.
 */
export const CORRECTION_STATUSES = ['proposed', 'applied', 'rejected', 'expired'] as const;
export type CorrectionStatus = (typeof CORRECTION_STATUSES)[number];

/** Positions are tied to these (they are undone by unstaking, not by correcting), and a correction is not corrected again. */
const NOT_CORRECTABLE: ReadonlySet<TransactionType> = new Set(['stake', 'unstake', 'correction']);

/** Refuses (CONFLICT) a transaction of a type no correction may reverse. */
export function checkCorrectable(type: TransactionType): void {
  if (NOT_CORRECTABLE.has(type)) throw new BusinessError('CONFLICT', `A ${type} transaction cannot be corrected`);
}

/** The production window for a second operator's approval (an input, so tests can shorten it). */
export const DEFAULT_CORRECTION_APPROVAL_WINDOW_MS = 7 * 86_400_000;

/**
 * How much a correction moves, in µCLOUD: what the corrected transaction moved in CLOUD (its debits),
 * or, for a transaction with only USD entries, its USD debits in CLOUD. Reversing a transaction moves
 * exactly what it moved.
 */
export function correctionAmount(entries: ReadonlyArray<Pick<LedgerEntry, 'currency' | 'amount'>>): bigint {
  const debits = (currency: string) => entries.filter((e) => e.currency === currency && e.amount > 0n).reduce((a, e) => a + e.amount, 0n);
  const cloud = debits('CLOUD');
  return cloud > 0n ? cloud : debits('USD') / USD_MICROS_PER_CLOUD_MICRO;
}

/** Four eyes: a correction moving more than the threshold needs a second operator's approval. */
export function needsSecondApproval(amount: bigint, threshold: bigint): boolean {
  return amount > threshold;
}

export type CorrectionDecision = 'approve' | 'reject';

/**
 * Whether an operator may decide a proposed correction: only while it is proposed (CONFLICT), never
 * approved by whoever proposed it (FORBIDDEN), and a rejection says why (VALIDATION_ERROR). The
 * proposer may reject, withdrawing their own proposal.
 */
export function checkCorrectionDecision(status: CorrectionStatus, decision: CorrectionDecision, by: { actor: string; proposer: string; reason?: string }): void {
  if (status !== 'proposed') throw new BusinessError('CONFLICT', `The correction is ${status}`);
  if (decision === 'approve' && by.actor === by.proposer) throw new BusinessError('FORBIDDEN', 'A correction needs a second operator: its proposer cannot approve it');
  if (decision === 'reject' && !by.reason?.trim()) throw new BusinessError('VALIDATION_ERROR', 'A rejection needs a reason');
}

export interface Correction {
  id: string;
  cooperativeId: string;
  transactionId: string;
  /** µCLOUD the correction moves (correctionAmount). */
  amount: bigint;
  reason: string;
  requiresApproval: boolean;
  status: CorrectionStatus;
  proposedBy: string;
  proposedAt: string;
  /** The second operator who approved it, or rejected it (with `decisionReason`). */
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  correctionTransactionId: string | null;
}

export const correctionWorkflowId = (correctionId: string) => `correction:${correctionId}`;

/** The internal idempotency key of a correction's reversing transaction: applied once, whoever applies it. */
export const correctionKey = (correctionId: string) => `correction:${correctionId}`;
