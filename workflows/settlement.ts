import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { NetworkActivities } from '../activities/network';
import type { SettlementRequest } from '../domain/network/settlement';

export interface SettlementResult {
  outTransaction: string;
  inTransaction: string;
}

export const settlementWorkflowId = (exchangeId: string) => `settlement:${exchangeId}`;

const NON_RETRYABLE = ['INSUFFICIENT_FUNDS', 'NOT_FOUND', 'VALIDATION_ERROR', 'CONFLICT', 'IDEMPOTENCY_MISMATCH'];
// Ledger writes take milliseconds. The payee's side is retried a bounded while, then compensated.
const { settleOut, settleIn } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});
// The compensation must happen: it retries until it does.
const { reverseSettlement } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['NOT_FOUND', 'VALIDATION_ERROR', 'IDEMPOTENCY_MISMATCH'] },
});

const failureType = (err: unknown) => (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined);

/**
 * Moves CLOUD from a member of one cooperative to another cooperative: each side posts a balanced
 * transaction in its own books through its clearing account with the other, both or neither. The
 * payer's side goes first (it is the one that can be refused, for want of credits); if the payee's
 * side then fails for good, the payer's is reversed. Every step is keyed by the exchange.
 */
export async function settlement(req: SettlementRequest): Promise<SettlementResult> {
  const outTransaction = await settleOut(req);
  try {
    return { outTransaction, inTransaction: await settleIn(req) };
  } catch (err) {
    await reverseSettlement({ exchangeId: req.exchangeId, cooperativeId: req.payerCooperativeId, transactionId: outTransaction, reason: `settlement ${req.exchangeId}: the payee's side failed` });
    throw ApplicationFailure.create({ type: failureType(err) ?? 'CONFLICT', message: `Settlement ${req.exchangeId} was undone: the payee's side failed`, nonRetryable: true });
  }
}
