/**
 * Bounds on times clients supply. Clocks differ a little, so "now" has a tolerance; nothing the ledger
 * records lies before the epoch (the first rate card's start) or years ahead.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;
const EPOCH = 0;
export const DAY_MS = 86_400_000;
const YEAR_MS = 365.25 * DAY_MS;
/** How far ahead a rate card may be published. */
export const MAX_SCHEDULE_AHEAD_MS = 5 * YEAR_MS;

/** Usage is reported once it has happened: not before the epoch, not after now (give or take the skew). */
export function usageTimeProblem(at: Date, now: Date): string | undefined {
  if (Number.isNaN(at.getTime()) || at.getTime() < EPOCH) return 'must be a time after 1970-01-01';
  if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) return 'must not be in the future';
  return undefined;
}

/**
 * A rate card takes effect from now on (give or take the skew) and at most five years ahead; one that
 * reprices the past needs a stated reason, which only an operator may give.
 */
export function effectiveFromProblem(at: Date, now: Date, retroactiveReason: string | undefined): string | undefined {
  if (Number.isNaN(at.getTime()) || at.getTime() < EPOCH) return 'must be a time after 1970-01-01';
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) return 'must be at most five years ahead';
  if (at.getTime() < now.getTime() - CLOCK_SKEW_MS && !retroactiveReason?.trim()) return 'must not be in the past unless an operator gives the reason (retroactiveReason)';
  return undefined;
}
