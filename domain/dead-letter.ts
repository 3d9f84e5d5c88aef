import { BusinessError } from './errors';

/**
 * The dead-letter queue's closed lists, contract and rules. An operation that has exhausted its normal
 * retries is handed over with its type, payload, business key and last error; the `dlq:<itemId>`
 * workflow retries it after each delay, then waits in manual review for an operator.
 */

/** One per registered handler (activities/dead-letter.ts): a type without a handler cannot be handed over. */
export const DEAD_LETTER_OPERATION_TYPES = ['mint_credits', 'refund_clawback', 'webhook_delivery', 'stream_sample'] as const;
export type DeadLetterOperationType = (typeof DEAD_LETTER_OPERATION_TYPES)[number];

export const DEAD_LETTER_STATUSES = ['retrying', 'manual_review', 'succeeded', 'resolved', 'discarded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** Where an item ends: its workflow closes, and nothing can be done to it any more. */
export const SETTLED_DEAD_LETTER_STATUSES = ['succeeded', 'resolved', 'discarded'] as const satisfies readonly DeadLetterStatus[];
export type SettledDeadLetterStatus = (typeof SETTLED_DEAD_LETTER_STATUSES)[number];

export function isSettled(status: DeadLetterStatus): status is SettledDeadLetterStatus {
  return (SETTLED_DEAD_LETTER_STATUSES as readonly string[]).includes(status);
}

/** What an operator can do to an item. */
export const DEAD_LETTER_ACTIONS = ['retry', 'resolve', 'discard'] as const;
export type DeadLetterAction = (typeof DEAD_LETTER_ACTIONS)[number];

/** What an item's history records: the workflow's own retries and the operators' actions. */
export const DEAD_LETTER_HISTORY_ACTIONS = ['automatic_retry', ...DEAD_LETTER_ACTIONS] as const;
export type DeadLetterHistoryAction = (typeof DEAD_LETTER_HISTORY_ACTIONS)[number];

/** The production retry delays (60 s, 300 s, 1,800 s); an input so tests can shorten them. */
export const DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000] as const;

export interface DeadLetterHandover {
  operationType: DeadLetterOperationType;
  /** Unique per operation type: handing the same operation over twice yields the same item. */
  businessKey: string;
  cooperativeId: string | null;
  /** What the type's handler is given; bigints are stored as decimal strings. */
  payload: Record<string, unknown>;
  lastError: string;
  /** Delays before each automatic retry; defaults to DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
}

export const deadLetterWorkflowId = (itemId: string) => `dlq:${itemId}`;

/**
 * Which actions each status allows. Resolve and discard are allowed while automatic retries are still
 * pending (they cancel the rest); an operator's retry only in manual review, where nothing else retries.
 */
const ALLOWED: Record<DeadLetterStatus, readonly DeadLetterAction[]> = {
  retrying: ['resolve', 'discard'],
  manual_review: ['retry', 'resolve', 'discard'],
  succeeded: [],
  resolved: [],
  discarded: [],
};

/** The status an accepted resolve or discard leads to (a retry's depends on the handler). */
export const SETTLED_BY: Record<Exclude<DeadLetterAction, 'retry'>, SettledDeadLetterStatus> = { resolve: 'resolved', discard: 'discarded' };

/**
 * Refuses an action the item's status does not allow (CONFLICT), and a resolve without its note or a
 * discard without its reason (VALIDATION_ERROR): both are recorded for whoever looks at the item later.
 */
export function checkDeadLetterAction(status: DeadLetterStatus, action: DeadLetterAction, note: string | undefined): void {
  if (!ALLOWED[status].includes(action)) throw new BusinessError('CONFLICT', `a ${status} item cannot be ${action === 'retry' ? 'retried' : `${action}d`}`);
  if (action !== 'retry' && !note?.trim()) throw new BusinessError('VALIDATION_ERROR', action === 'resolve' ? 'resolving an item needs a note' : 'discarding an item needs a reason');
}

/** An item as operators see it. */
export interface DeadLetterItem {
  id: string;
  operationType: DeadLetterOperationType;
  businessKey: string;
  cooperativeId: string | null;
  payload: Record<string, unknown>;
  status: DeadLetterStatus;
  /** Handler runs since the handover, automatic and by operators. */
  attempts: number;
  lastError: string;
  createdAt: string;
  updatedAt: string;
}

export interface DeadLetterHistoryEntry {
  action: DeadLetterHistoryAction;
  /** The operator's subject; null for the workflow's automatic retries. */
  actor: string | null;
  /** The resolve note, the discard reason, or an operator's remark on a retry. */
  note: string | null;
  from: DeadLetterStatus;
  to: DeadLetterStatus;
  /** The handler's error, when the action ran it and it failed. */
  error: string | null;
  at: string;
}
