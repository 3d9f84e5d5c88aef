import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { NetworkActivities } from '../activities/network';
import { BUSINESS_ERROR_CODES, isBusinessErrorCode, type BusinessErrorCode } from '../domain/errors';
import type { SettlementRequest } from '../domain/network/settlement';

export interface SettlementResult {
  outTransaction: string;
  inTransaction: string;
}

export const settlementWorkflowId = (exchangeId: string) => `settlement:${exchangeId}`;

// Ledger writes take milliseconds. A side refused by a business rule posted nothing, for good; any other
// failure (database down, result lost after the COMMIT) may hide a posted side, so it is retried until
// it passes, each retry replaying the exchange's key.
const { settleOut, settleIn } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: [...BUSINESS_ERROR_CODES] },
});
// The compensation must happen: it retries until it does.
const { reverseSettlement } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['NOT_FOUND', 'VALIDATION_ERROR', 'IDEMPOTENCY_MISMATCH'] },
});

/** Runs started before this marker compensated the payer after any failure of the payee's side. */
const COMPENSATES_REFUSALS_ONLY = 'settlement-compensates-refusals-only';

/** The business rule's code when an activity was refused by one, which means it posted nothing. */
const refusalOf = (err: unknown): BusinessErrorCode | undefined =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && isBusinessErrorCode(err.cause.type) ? err.cause.type : undefined;

/**
 * Moves CLOUD from a member of one cooperative to another cooperative: each side posts a balanced
 * transaction in its own books through its clearing account with the other, both or neither. The
 * payer's side goes first (it is the one that can be refused, for want of credits); if a business rule
 * then refuses the payee's side, the payer's is reversed. Only a refusal is compensated: after any
 * other failure the payee's side may have been posted, and undoing the payer's alone would create
 * credits. Every step is keyed by the exchange.
 */
export async function settlement(req: SettlementRequest): Promise<SettlementResult> {
  const outTransaction = await settleOut(req);
  for (;;) {
    try {
      return { outTransaction, inTransaction: await settleIn(req) };
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal === undefined && patched(COMPENSATES_REFUSALS_ONLY)) {
        // Only an attempt scheduled by a run started before the marker has bounded retries: run it again under the same key.
        if (err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED) continue;
        throw err;
      }
      await reverseSettlement({ exchangeId: req.exchangeId, cooperativeId: req.payerCooperativeId, transactionId: outTransaction, reason: `settlement ${req.exchangeId}: the payee's side failed` });
      throw ApplicationFailure.create({ type: refusal ?? 'CONFLICT', message: `Settlement ${req.exchangeId} was undone: the payee's side failed`, nonRetryable: true });
    }
  }
}
