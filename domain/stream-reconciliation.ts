/**
 * The daily stream reconciliation's checks and its one judgement: whether an account's balance moved
 * differently from what its streams booked by more than the threshold.
 */
export const STREAM_RECONCILIATION_CHECKS = {
  /** Each sample posted since the last run, recomputed from the chain's FlowUpdated history, moved what it booked. */
  samples: 'samples_match_chain_history',
  /** Each cooperative account's balance moved, since the last run, what its streams booked (within the threshold). */
  accounts: 'account_balance_matches_samples',
} as const;

/** The default threshold: 10 % of what the streams booked (the seed's). */
export const DEFAULT_DRIFT_THRESHOLD_BPS = 1_000;

/**
 * Whether `actual` (how an account's balance moved) differs from `expected` (what its streams booked)
 * by more than `thresholdBps` basis points of `expected`. Any movement where nothing was booked is beyond.
 */
export function driftBeyond(expected: bigint, actual: bigint, thresholdBps: number): boolean {
  const abs = (v: bigint) => (v < 0n ? -v : v);
  return abs(actual - expected) * 10_000n > BigInt(thresholdBps) * abs(expected);
}

/** One cooperative's daily stream reconciliation (`stream-reconciliation:<cooperative>:<instant>`). */
export const STREAM_RECONCILIATION_WORKFLOW_TYPE = 'streamReconciliation';
export const streamReconciliationWorkflowId = (cooperativeId: string, instant: string) => `stream-reconciliation:${cooperativeId}:${instant}`;

export interface StreamReconciliationInput {
  cooperativeId: string;
  /** The scheduled instant the run is for (its business key, with the cooperative). */
  instant: string;
}
