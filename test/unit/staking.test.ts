import { BusinessError } from '../../domain/errors';
import { DEFAULT_STAKING_TERMS, releaseAt, termOf, unlockInstant, validateStakingTerms, type StakingTerm } from '../../domain/staking';

const DAY = 86_400_000;
const term = (over: Partial<StakingTerm> = {}): StakingTerm => ({ days: 30, multiplierBasisPoints: 10_000, autoRelease: true, earlyExitPenaltyBasisPoints: null, ...over });

function refusal(run: () => unknown): { code: string; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof BusinessError) return { code: err.code, message: err.message };
    throw err;
  }
}

describe('staking terms', () => {
  it('defaults to 30, 90, 180 and 365 days at 1.0x, 1.25x, 1.5x and 2.0x, released at unlock, no early exit', () => {
    expect(DEFAULT_STAKING_TERMS.map((t) => [t.days, t.multiplierBasisPoints, t.autoRelease, t.earlyExitPenaltyBasisPoints])).toEqual([
      [30, 10_000, true, null],
      [90, 12_500, true, null],
      [180, 15_000, true, null],
      [365, 20_000, true, null],
    ]);
    expect(() => validateStakingTerms(DEFAULT_STAKING_TERMS)).not.toThrow();
  });

  it('refuses an empty set, a repeated length, and lengths, multipliers or penalties out of bounds', () => {
    expect(() => validateStakingTerms([])).toThrow(RangeError);
    expect(() => validateStakingTerms([term(), term()])).toThrow(/one term per number of days/);
    expect(() => validateStakingTerms([term({ days: 0 })])).toThrow(/whole days/);
    expect(() => validateStakingTerms([term({ days: 1.5 })])).toThrow(/whole days/);
    expect(() => validateStakingTerms([term({ days: 3651 })])).toThrow(/whole days/);
    expect(() => validateStakingTerms([term({ multiplierBasisPoints: 0 })])).toThrow(/multiplier/);
    expect(() => validateStakingTerms([term({ multiplierBasisPoints: 100_001 })])).toThrow(/multiplier/);
    expect(() => validateStakingTerms([term({ earlyExitPenaltyBasisPoints: -1 })])).toThrow(/penalty/);
    expect(() => validateStakingTerms([term({ earlyExitPenaltyBasisPoints: 10_001 })])).toThrow(/penalty/);
    expect(() => validateStakingTerms(Array.from({ length: 13 }, (_, i) => term({ days: i + 1 })))).toThrow(/between 1 and 12/);
  });

  it('finds a term by its days, and names the terms offered when there is none', () => {
    expect(termOf(DEFAULT_STAKING_TERMS, 90).multiplierBasisPoints).toBe(12_500);
    expect(refusal(() => termOf(DEFAULT_STAKING_TERMS, 60))).toEqual({ code: 'VALIDATION_ERROR', message: 'No 60-day term: this cooperative offers 30, 90, 180, 365 days' });
  });

  it("unlocks exactly the term's days of 24 hours after staking", () => {
    expect(unlockInstant(new Date('2026-01-01T12:00:00.000Z'), 365).toISOString()).toBe('2027-01-01T12:00:00.000Z');
  });
});

describe('releasing a position', () => {
  const stakedAt = new Date('2026-03-01T00:00:00Z');
  const unlocksAt = new Date(stakedAt.getTime() + 365 * DAY);
  const locked = { amount: 1_000_001n, unlocksAt, earlyExitPenaltyBasisPoints: null };

  it('refuses before the unlock instant, to the millisecond, saying until when; releases everything at it and after', () => {
    expect(refusal(() => releaseAt(locked, new Date(unlocksAt.getTime() - 1), false))).toEqual({ code: 'CONFLICT', message: `The position is locked until ${unlocksAt.toISOString()}` });
    expect(refusal(() => releaseAt(locked, new Date(unlocksAt.getTime() - 1000), false))?.code).toBe('CONFLICT');
    expect(releaseAt(locked, unlocksAt, false)).toEqual({ kind: 'unlocked', penalty: 0n });
    expect(releaseAt(locked, new Date(unlocksAt.getTime() + 90 * DAY), false)).toEqual({ kind: 'unlocked', penalty: 0n });
    // After unlock an early exit is just a release: nothing is forfeited.
    expect(releaseAt({ ...locked, earlyExitPenaltyBasisPoints: 500 }, unlocksAt, true)).toEqual({ kind: 'unlocked', penalty: 0n });
  });

  it('lets a position leave early only when asked and only where its term allows it, forfeiting the penalty rounded down', () => {
    const before = new Date(unlocksAt.getTime() - DAY);
    expect(refusal(() => releaseAt(locked, before, true))?.message).toMatch(/allows no early exit/);
    const exitable = { ...locked, earlyExitPenaltyBasisPoints: 1_000 };
    // Never a silent release: without the explicit ask it is refused, and the refusal says what an early exit costs.
    expect(refusal(() => releaseAt(exitable, before, false))?.message).toMatch(/early exit \(earlyExit: true\) forfeits 10%/);
    expect(releaseAt(exitable, before, true)).toEqual({ kind: 'early_exit', penalty: 100_000n });
  });
});
