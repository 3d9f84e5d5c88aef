import fc from 'fast-check';
import { BusinessError } from '../../domain/errors';
import { splitProRata } from '../../domain/money';
import { committedMs, periodProblem, stakerShares, stakerWeight, type Period, type StakedPosition } from '../../domain/staking-shares';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (day: number) => new Date(T0 + day * DAY);
const position = (id: string, over: Partial<StakedPosition> = {}): StakedPosition => ({
  id, amount: 1_000_000n, multiplierBasisPoints: 10_000, stakedAt: at(0), unlocksAt: at(30), releasedAt: null, ...over,
});
const month: Period = { from: at(0), to: at(30) };

describe('the time a position is committed within a period', () => {
  it('counts from staking (or the period start) to unlock, an earlier release, or the period end', () => {
    expect(committedMs(position('a'), month)).toBe(BigInt(30 * DAY));
    expect(committedMs(position('a', { stakedAt: at(10), unlocksAt: at(100) }), month)).toBe(BigInt(20 * DAY));
    expect(committedMs(position('a', { stakedAt: at(-50), unlocksAt: at(5) }), month)).toBe(BigInt(5 * DAY));
    expect(committedMs(position('a', { stakedAt: at(-50), unlocksAt: at(100), releasedAt: at(12) }), month)).toBe(BigInt(12 * DAY));
    // Waiting for its member after unlock earns nothing; nor does a position outside the period.
    expect(committedMs(position('a', { stakedAt: at(-60), unlocksAt: at(-30) }), month)).toBe(0n);
    expect(committedMs(position('a', { stakedAt: at(30), unlocksAt: at(60) }), month)).toBe(0n);
  });

  it('refuses a period that has no length or has not ended', () => {
    expect(periodProblem(month, at(31))).toBeUndefined();
    expect(periodProblem({ from: at(1), to: at(1) }, at(31))).toMatch(/start before it ends/);
    expect(periodProblem(month, at(29))).toMatch(/must have ended/);
  });
});

describe("the stakers' share", () => {
  it('is pro rata to amount × multiplier × time across positions with different terms', () => {
    const positions = [
      // 100 CLOUD on the 30-day term (1.0x) for the whole month.
      position('a', { amount: 100_000_000n, multiplierBasisPoints: 10_000, unlocksAt: at(30) }),
      // 100 CLOUD on the 365-day term (2.0x), staked half-way through.
      position('b', { amount: 100_000_000n, multiplierBasisPoints: 20_000, stakedAt: at(15), unlocksAt: at(380) }),
      // 200 CLOUD on the 90-day term (1.25x) for the whole month.
      position('c', { amount: 200_000_000n, multiplierBasisPoints: 12_500, stakedAt: at(-10), unlocksAt: at(80) }),
    ];
    // Weights 100×1×30 : 100×2×15 : 200×1.25×30 = 3000 : 3000 : 7500 → 2/9, 2/9, 5/9.
    const shares = stakerShares(9_000_001n, positions, month);
    expect(shares.map((s) => [s.positionId, s.basisPoints, s.amount])).toEqual([
      ['a', 2222, 2_000_000n],
      ['b', 2222, 2_000_000n],
      ['c', 5556, 5_000_001n],
    ]);
    expect(shares.map((s) => s.weight)).toEqual([stakerWeight(positions[0]!, month), stakerWeight(positions[1]!, month), stakerWeight(positions[2]!, month)]);
  });

  it('gives the remainder to the largest fractions, ties to the lower position id, whatever order the positions come in', () => {
    const three = ['c', 'a', 'b'].map((id) => position(id));
    expect(stakerShares(10n, three, month).map((s) => [s.positionId, s.basisPoints, s.amount])).toEqual([
      ['a', 3334, 4n],
      ['b', 3333, 3n],
      ['c', 3333, 3n],
    ]);
  });

  it('leaves out positions with no time in the period, and refuses a share nobody can be paid', () => {
    expect(stakerShares(5n, [position('a'), position('z', { stakedAt: at(40), unlocksAt: at(70) })], month).map((s) => s.positionId)).toEqual(['a']);
    expect(() => stakerShares(5n, [position('z', { stakedAt: at(40), unlocksAt: at(70) })], month)).toThrow(BusinessError);
  });
});

describe('pro-rata shares (property)', () => {
  const arbPosition = fc.record({
    id: fc.uuid(),
    amount: fc.bigInt({ min: 1n, max: 10n ** 15n }),
    multiplierBasisPoints: fc.integer({ min: 1, max: 100_000 }),
    start: fc.integer({ min: -400, max: 400 }),
    days: fc.integer({ min: 1, max: 3650 }),
    releasedAfter: fc.option(fc.integer({ min: 0, max: 3650 }), { nil: null }),
  }).map(({ start, days, releasedAfter, ...p }): StakedPosition => ({ ...p, stakedAt: at(start), unlocksAt: at(start + days), releasedAt: releasedAfter === null ? null : at(start + releasedAfter) }));
  const arbPeriod = fc.tuple(fc.integer({ min: -400, max: 400 }), fc.integer({ min: 1, max: 400 })).map(([from, length]): Period => ({ from: at(from), to: at(from + length) }));

  it('conserves every µCLOUD and every basis point, and pays each position within one µCLOUD of its exact share, more weight never less', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbPosition, { minLength: 1, maxLength: 40, selector: (p) => p.id }), arbPeriod, fc.bigInt({ min: 0n, max: 10n ** 17n }), (positions, period, total) => {
        const weights = positions.map((p) => stakerWeight(p, period));
        const sum = weights.reduce((a, w) => a + w, 0n);
        if (sum === 0n) {
          expect(() => stakerShares(total, positions, period)).toThrow(BusinessError);
          return;
        }
        const shares = stakerShares(total, positions, period);
        expect(shares.reduce((a, s) => a + s.amount, 0n)).toBe(total);
        expect(shares.reduce((a, s) => a + s.basisPoints, 0)).toBe(10_000);
        expect(shares.length).toBe(weights.filter((w) => w > 0n).length);
        for (const s of shares) {
          // floor(exact) <= paid <= floor(exact) + 1, i.e. |paid - total·w/W| < 1.
          const floor = (total * s.weight) / sum;
          expect(s.amount === floor || s.amount === floor + 1n).toBe(true);
        }
        for (const a of shares) {
          for (const b of shares) {
            if (a.weight > b.weight) expect(a.amount).toBeGreaterThanOrEqual(b.amount);
            if (a.weight === b.weight) expect(a.amount - b.amount <= 1n && b.amount - a.amount <= 1n).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('splitProRata gives nothing to a zero weight and refuses negative weights or no weight at all', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 20n }), { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 0n, max: 10n ** 17n }), (weights, total) => {
        fc.pre(weights.some((w) => w > 0n));
        const parts = splitProRata(total, weights);
        expect(parts.reduce((a, p) => a + p, 0n)).toBe(total);
        weights.forEach((w, i) => w === 0n && expect(parts[i]).toBe(0n));
      }),
    );
    expect(() => splitProRata(1n, [0n, 0n])).toThrow(/at least one weight/);
    expect(() => splitProRata(1n, [1n, -1n])).toThrow(/not be negative/);
  });
});
