import { BusinessError } from './errors';
import { splitProRata } from './money';

/** A half-open period [from, to) a revenue distribution pays for. */
export interface Period {
  from: Date;
  to: Date;
}

/** What a position's revenue share depends on. */
export interface StakedPosition {
  id: string;
  amount: bigint;
  multiplierBasisPoints: number;
  stakedAt: Date;
  unlocksAt: Date;
  releasedAt: Date | null;
}

/** One position's part of the stakers' share. */
export interface StakerShare {
  positionId: string;
  /** Milliseconds the position was committed within the period (committedMs). */
  committedMs: bigint;
  /** amount × multiplier × milliseconds committed within the period. */
  weight: bigint;
  /** Of the stakers' share, summing to exactly 10,000 over the positions paid. */
  basisPoints: number;
  /** µCLOUD paid, summing to exactly the stakers' share. */
  amount: bigint;
}

/** A distribution's period has a positive length and has ended by `now` (revenue is shared for time that has passed). */
export function periodProblem(period: Period, now: Date): string | undefined {
  if (Number.isNaN(period.from.getTime()) || Number.isNaN(period.to.getTime())) return 'must be valid times';
  if (period.from.getTime() >= period.to.getTime()) return 'must start before it ends';
  if (period.to.getTime() > now.getTime()) return 'must have ended';
  return undefined;
}

/**
 * How long a position was committed within the period, in ms: from staking until its unlock instant,
 * or its release if that came first (an early exit). A position left staked after its unlock instant
 * has kept no lock, so that time earns nothing: the multiplier rewards the commitment, not the wait.
 */
export function committedMs(position: StakedPosition, period: Period): bigint {
  const start = Math.max(position.stakedAt.getTime(), period.from.getTime());
  const committedUntil = Math.min(position.unlocksAt.getTime(), position.releasedAt?.getTime() ?? Number.POSITIVE_INFINITY);
  const end = Math.min(committedUntil, period.to.getTime());
  return end > start ? BigInt(end - start) : 0n;
}

export function stakerWeight(position: StakedPosition, period: Period): bigint {
  return position.amount * BigInt(position.multiplierBasisPoints) * committedMs(position, period);
}

/**
 * The stakers' share of a distribution, `total` µCLOUD, split over the positions committed within the
 * period pro rata to amount × multiplier × time committed. Both the basis points and the µCLOUD are
 * split by largest remainder (domain/money.ts splitProRata) over the positions ordered by id, so ties
 * go to the lower id and nothing is created or lost: the µCLOUD follow the weights themselves, finer
 * than the basis points, which are the rounded record of each position's share. Positions with no
 * time committed in the period are left out; CONFLICT when none is left to pay.
 */
export function stakerShares(total: bigint, positions: readonly StakedPosition[], period: Period): StakerShare[] {
  const weighted = [...positions]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => ({ positionId: p.id, committedMs: committedMs(p, period), weight: stakerWeight(p, period) }))
    .filter((p) => p.weight > 0n);
  if (weighted.length === 0) throw new BusinessError('CONFLICT', 'No position was staked during the period: the stakers share has no one to pay');
  const weights = weighted.map((p) => p.weight);
  const basisPoints = splitProRata(10_000n, weights);
  const amounts = splitProRata(total, weights);
  return weighted.map((p, i) => ({ ...p, basisPoints: Number(basisPoints[i]!), amount: amounts[i]! }));
}
