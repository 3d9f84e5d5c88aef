/**
 * Accounting periods are calendar months in UTC, named `YYYY-MM`. Each is half-open: from its first
 * instant (the 1st, 00:00:00 UTC) up to, not including, the first instant of the next month, which is
 * its boundary. An instant belongs to exactly one period.
 */
export const PERIOD_ID = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface PeriodBounds {
  start: Date;
  end: Date;
}

/** The period `instant` falls in. */
export function periodOf(instant: Date): string {
  return instant.toISOString().slice(0, 7);
}

/** A period's first instant and its end (the next period's first instant). */
export function periodBounds(periodId: string): PeriodBounds {
  const match = PERIOD_ID.exec(periodId);
  if (!match) throw new RangeError(`a period is named YYYY-MM (got ${periodId})`);
  const [year, month] = [Number(match[1]), Number(match[2])];
  return { start: new Date(Date.UTC(year, month - 1, 1)), end: new Date(Date.UTC(year, month, 1)) };
}

/** The first period boundary strictly after `instant`. */
export function nextPeriodBoundary(instant: Date): Date {
  return periodBounds(periodOf(instant)).end;
}

/** A period is open until its close is recorded: `closing` while its boundary samples are taken, then `closed`. */
export const RECORDED_PERIOD_STATUSES = ['closing', 'closed'] as const;
export const PERIOD_STATUSES = ['open', ...RECORDED_PERIOD_STATUSES] as const;
export type PeriodStatus = (typeof PERIOD_STATUSES)[number];

export interface AccountingPeriod {
  cooperativeId: string;
  period: string;
  startsAt: string;
  endsAt: string;
  status: PeriodStatus;
  requestedBy: string | null;
  closedAt: string | null;
  /** The stream samples posted into the period: how many, and their µUSD. */
  streamSamples: { count: number; amountUsd: bigint };
}

/**
 * A period's close (`period-close:<cooperative>:<period>`): every stream is sampled at the boundary,
 * then the period is closed. While a stream cannot be sampled (no usable price, or it went to the
 * dead-letter queue) the close waits `blocked`, trying again every hour or when asked again.
 */
export const PERIOD_CLOSE_WORKFLOW_TYPE = 'periodClose';
export const periodCloseWorkflowId = (cooperativeId: string, period: string) => `period-close:${cooperativeId}:${period}`;
export const PERIOD_CLOSE_RETRY_SIGNAL = 'retry';

/** What the close workflow is doing, as its BusinessStatus says. */
export const PERIOD_CLOSE_STATUSES = ['sampling', 'blocked', 'closed'] as const;
export type PeriodCloseStatus = (typeof PERIOD_CLOSE_STATUSES)[number];

export interface PeriodCloseInput {
  cooperativeId: string;
  period: string;
  requestedBy: string;
  deadLetterRetryDelaysMs?: readonly number[];
  /** How long a blocked close waits before trying again by itself (default an hour). */
  retryEveryMs?: number;
  /** Sampling attempts made by the earlier runs of this close, when it continued as new. */
  attemptsSoFar?: number;
}

export interface PeriodCloseState {
  status: PeriodCloseStatus;
  period: string;
  /** Sampling attempts at the boundary so far. */
  attempts: number;
  /** Why the last attempt could not close the period. */
  blockedBy: string | null;
  closedAt: string | null;
}
