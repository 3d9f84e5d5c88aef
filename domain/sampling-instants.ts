import { nextPeriodBoundary } from './accounting-periods';
import type { SamplingInterval } from './streams';

/**
 * When streams are sampled. A sample covers the half-open interval [previous sample, this instant), in
 * UTC. A stream's instants are its interval's grid (hourly on the hour, daily at 00:00, weekly on
 * Monday at 00:00) and, whatever its interval, every period boundary, so no sample straddles two
 * periods. A stream that fell behind is sampled at each instant it missed, in order, so its intervals
 * keep to the grid and each is priced for its own time.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** 1970-01-01 was a Thursday: Mondays are 4 days after the epoch, modulo a week. */
const MONDAY_OFFSET_MS = 4 * DAY_MS;
const WEEK_MS = 7 * DAY_MS;

/** The first grid instant of `interval` strictly after `after`; undefined for period-end-only streams. */
function nextGridInstant(interval: SamplingInterval, after: number): number | undefined {
  const step = (period: number, offset: number) => Math.floor((after - offset) / period) * period + period + offset;
  switch (interval) {
    case 'hourly':
      return step(HOUR_MS, 0);
    case 'daily':
      return step(DAY_MS, 0);
    case 'weekly':
      return step(WEEK_MS, MONDAY_OFFSET_MS);
    case 'period_end':
      return undefined;
  }
}

/**
 * The instants a stream of `interval` is due to be sampled at, strictly after `from` (where its books
 * stand) and at most `upTo`, oldest first, at most `limit` of them.
 */
export function dueInstants(interval: SamplingInterval, from: Date, upTo: Date, limit: number): Date[] {
  const due: Date[] = [];
  let at = from.getTime();
  while (due.length < limit) {
    const grid = nextGridInstant(interval, at);
    const boundary = nextPeriodBoundary(new Date(at)).getTime();
    const next = grid === undefined ? boundary : Math.min(grid, boundary);
    if (next > upTo.getTime()) break;
    due.push(new Date(next));
    at = next;
  }
  return due;
}

/** Whole seconds since the epoch: the chain's clock. Instants here are whole seconds. */
export function unixSeconds(instant: Date): bigint {
  return BigInt(Math.floor(instant.getTime() / 1000));
}

export function fromUnixSeconds(seconds: bigint): Date {
  return new Date(Number(seconds) * 1000);
}
