import { BusinessError } from './errors';
import { DAY_MS } from './time-bounds';

/** A staking position is active until its credits are unstaked back to the wallet. */
export const STAKING_POSITION_STATUSES = ['active', 'released'] as const;
export type StakingPositionStatus = (typeof STAKING_POSITION_STATUSES)[number];

/** How a position's credits came back: at or after its unlock instant, or before it by the term's early-exit rule, with its penalty. */
export const STAKING_RELEASE_KINDS = ['unlocked', 'early_exit'] as const;
export type StakingReleaseKind = (typeof STAKING_RELEASE_KINDS)[number];

/** Who released a position: its member, or its workflow at the unlock instant. */
export type StakingReleasedBy = 'member' | 'auto_release';

/** One lock term a cooperative offers. */
export interface StakingTerm {
  days: number;
  /** How much a staked credit weighs in the stakers' revenue share: 10,000 is 1.0×. */
  multiplierBasisPoints: number;
  /** At the unlock instant the credits come back by themselves; otherwise they wait for the member. */
  autoRelease: boolean;
  /** Null: no early exit. Otherwise the share of the stake forfeited by leaving before the unlock instant. */
  earlyExitPenaltyBasisPoints: number | null;
}

/**
 * The terms of a cooperative that has set none (the Habitat seed's "longer lock = higher share"):
 * 30, 90, 180 and 365 days at 1.0×, 1.25×, 1.5× and 2.0×, released at unlock, no early exit.
 */
export const DEFAULT_STAKING_TERMS: readonly StakingTerm[] = [
  { days: 30, multiplierBasisPoints: 10_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
  { days: 90, multiplierBasisPoints: 12_500, autoRelease: true, earlyExitPenaltyBasisPoints: null },
  { days: 180, multiplierBasisPoints: 15_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
  { days: 365, multiplierBasisPoints: 20_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
];

/** Bounds of a cooperative's terms: a lock of a day to ten years, a multiplier up to 10×, at most 12 terms. */
export const STAKING_TERM_LIMITS = { maxTerms: 12, minDays: 1, maxDays: 3650, minMultiplier: 1, maxMultiplier: 100_000, maxPenalty: 10_000 } as const;

/** A cooperative's set of terms: one per lock length, each within the limits. RangeError says what is wrong. */
export function validateStakingTerms(terms: readonly StakingTerm[]): void {
  const l = STAKING_TERM_LIMITS;
  if (terms.length === 0 || terms.length > l.maxTerms) throw new RangeError(`between 1 and ${l.maxTerms} terms`);
  if (new Set(terms.map((t) => t.days)).size !== terms.length) throw new RangeError('one term per number of days');
  for (const t of terms) {
    if (!Number.isInteger(t.days) || t.days < l.minDays || t.days > l.maxDays) throw new RangeError(`a term is ${l.minDays} to ${l.maxDays} whole days`);
    if (!Number.isInteger(t.multiplierBasisPoints) || t.multiplierBasisPoints < l.minMultiplier || t.multiplierBasisPoints > l.maxMultiplier) {
      throw new RangeError(`a multiplier is ${l.minMultiplier} to ${l.maxMultiplier} basis points`);
    }
    const p = t.earlyExitPenaltyBasisPoints;
    if (p !== null && (!Number.isInteger(p) || p < 0 || p > l.maxPenalty)) throw new RangeError(`an early-exit penalty is 0 to ${l.maxPenalty} basis points`);
  }
}

/** The term of `days` among a cooperative's terms; VALIDATION_ERROR names the ones it offers. */
export function termOf(terms: readonly StakingTerm[], days: number): StakingTerm {
  const term = terms.find((t) => t.days === days);
  if (!term) throw new BusinessError('VALIDATION_ERROR', `No ${days}-day term: this cooperative offers ${terms.map((t) => t.days).join(', ')} days`);
  return term;
}

/** The instant a position staked at `stakedAt` for `days` unlocks: exactly that many 24-hour days later. */
export function unlockInstant(stakedAt: Date, days: number): Date {
  return new Date(stakedAt.getTime() + days * DAY_MS);
}

/** What a position's lock rules need to know. */
export interface PositionLock {
  amount: bigint;
  unlocksAt: Date;
  earlyExitPenaltyBasisPoints: number | null;
}

/** How a position's credits come back at an instant: all of them at or after unlock, less the penalty before. */
export interface Release {
  kind: StakingReleaseKind;
  penalty: bigint;
}

/**
 * Whether a position may be released at `at`, and how. At or after the unlock instant: every credit
 * comes back. Before it: only by an explicit early exit on a term that allows one, forfeiting the
 * penalty (rounded down to the µCLOUD); otherwise CONFLICT, saying until when.
 */
export function releaseAt(position: PositionLock, at: Date, earlyExit: boolean): Release {
  if (at.getTime() >= position.unlocksAt.getTime()) return { kind: 'unlocked', penalty: 0n };
  const penaltyBp = position.earlyExitPenaltyBasisPoints;
  if (!earlyExit) {
    const hint = penaltyBp === null ? '' : `; an early exit (earlyExit: true) forfeits ${penaltyBp / 100}%`;
    throw new BusinessError('CONFLICT', `The position is locked until ${position.unlocksAt.toISOString()}${hint}`);
  }
  if (penaltyBp === null) throw new BusinessError('CONFLICT', `The position is locked until ${position.unlocksAt.toISOString()}, and its term allows no early exit`);
  return { kind: 'early_exit', penalty: (position.amount * BigInt(penaltyBp)) / 10_000n };
}

/** A position as members and admins see it. */
export interface StakingPosition {
  id: string;
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  termDays: number;
  multiplierBasisPoints: number;
  autoRelease: boolean;
  earlyExitPenaltyBasisPoints: number | null;
  stakedAt: string;
  unlocksAt: string;
  status: StakingPositionStatus;
  releasedAt: string | null;
  releaseKind: StakingReleaseKind | null;
  /** µCLOUD forfeited by an early exit. */
  penalty: bigint | null;
  /** µCLOUD the position has been paid by revenue distributions. */
  revenueEarned: bigint;
}

export const stakeWorkflowId = (positionId: string) => `stake:${positionId}`;

/** The internal idempotency key of a position's release: the member's request and the auto-release share it, so one of them releases. */
export const releaseKey = (positionId: string) => `position:${positionId}:unstake`;
