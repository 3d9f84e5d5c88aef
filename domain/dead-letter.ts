/**
 * The dead-letter queue's closed lists and contract. An operation that has exhausted its normal
 * retries is handed over with its type, payload, business key and last error; the `dlq:<itemId>`
 * workflow retries it after each delay, then waits in manual review for an operator.
 */
export const DEAD_LETTER_OPERATION_TYPES = ['webhook_delivery', 'stream_sample', 'ledger_operation'] as const;
export type DeadLetterOperationType = (typeof DEAD_LETTER_OPERATION_TYPES)[number];

export const DEAD_LETTER_STATUSES = ['retrying', 'manual_review', 'succeeded', 'resolved', 'discarded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export const DEAD_LETTER_ACTIONS = ['retry', 'resolve', 'discard'] as const;
export type DeadLetterAction = (typeof DEAD_LETTER_ACTIONS)[number];

/** The production retry delays (60 s, 300 s, 1,800 s); an input so tests can shorten them. */
export const DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000] as const;

export interface DeadLetterHandover {
  operationType: DeadLetterOperationType;
  /** Unique per operation type: handing the same operation over twice yields the same item. */
  businessKey: string;
  cooperativeId: string | null;
  payload: Record<string, unknown>;
  lastError: string;
  /** Delays before each automatic retry; defaults to DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS. */
  retryDelaysMs?: number[];
}

export const deadLetterWorkflowId = (itemId: string) => `dlq:${itemId}`;
