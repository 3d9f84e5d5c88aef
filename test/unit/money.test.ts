import fc from 'fast-check';
import { cloudToCents, cloudToUsd, formatMicros, MoneyFormatError, parseMicros, priceUsage, splitByBasisPoints } from '../../domain/money';

describe('decimal strings', () => {
  it('parses exact decimals into micro-units', () => {
    expect(parseMicros('12.5')).toBe(12_500_000n);
    expect(parseMicros('0.000001')).toBe(1n);
    expect(parseMicros('0')).toBe(0n);
    expect(parseMicros('100000000000')).toBe(10n ** 17n); // the cap: 10^11 CLOUD
  });

  it('refuses floats, signs, exponents, extra decimals and junk', () => {
    for (const bad of ['1.0000001', '-1', '+1', '1e3', '01', '.5', '5.', '1,5', ' 1', '', 'NaN', '0x10', '100000000000.000001', '99999999999999999999']) {
      expect(() => parseMicros(bad)).toThrow(MoneyFormatError);
    }
    expect(() => parseMicros('1.1234567')).toThrow(/at most 6 decimal places/);
  });

  it('formats back to the shortest exact form and round-trips', () => {
    expect(formatMicros(12_500_000n)).toBe('12.5');
    expect(formatMicros(1n)).toBe('0.000001');
    expect(formatMicros(-3_000_000n)).toBe('-3');
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 17n }), (v) => parseMicros(formatMicros(v)) === v));
  });
});

describe('conversions', () => {
  it('1 CLOUD = 10 USD exactly, and card payments are whole cents', () => {
    expect(cloudToUsd(1_000_000n)).toBe(10_000_000n);
    expect(cloudToCents(1_000_000n)).toBe(1000n);
    expect(cloudToCents(12_345_000n)).toBe(12_345n);
    expect(() => cloudToCents(1_500n)).toThrow(/whole number of cents/);
  });

  it('prices usage with half-up rounding to the µCLOUD', () => {
    expect(priceUsage(2_500_000n, 1_000_000n)).toBe(2_500_000n); // 2.5 compute-hours at 1 CLOUD
    expect(priceUsage(1n, 500_000n)).toBe(1n); // 0.5 µCLOUD rounds up
    expect(priceUsage(1n, 499_999n)).toBe(0n);
    expect(priceUsage(3_000_000n, 50_000n)).toBe(150_000n);
  });
});

describe('splitByBasisPoints', () => {
  it('gives the remainder to the stated owner', () => {
    expect(splitByBasisPoints(100n, [3333, 3333, 3334], 0)).toEqual([34n, 33n, 33n]);
    expect(splitByBasisPoints(100n, [3333, 3333, 3334], 2)).toEqual([33n, 33n, 34n]);
    expect(splitByBasisPoints(1n, [5000, 5000], 1)).toEqual([0n, 1n]);
  });

  it('refuses shares that do not sum to 10000 or a remainder owner that is not a part', () => {
    expect(() => splitByBasisPoints(100n, [5000, 4999], 0)).toThrow(/sum to 10000/);
    expect(() => splitByBasisPoints(100n, [10000], 1)).toThrow(/remainder owner/);
    expect(() => splitByBasisPoints(100n, [10000.5 - 0.5, 0.5], 0)).toThrow();
  });

  it('always sums exactly to the whole, and no part is off its share by a unit or more (but the owner)', () => {
    const shares = fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 12 }).map((raw) => {
      const total = raw.reduce((a, b) => a + b, 0) || 1;
      const bps = raw.map((r) => Math.floor((r * 10_000) / total));
      bps[0]! += 10_000 - bps.reduce((a, b) => a + b, 0);
      return bps;
    });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), shares, fc.nat(), (total, bps, owner) => {
        const to = owner % bps.length;
        const parts = splitByBasisPoints(total, bps, to);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
        parts.forEach((p, i) => {
          const exact = (total * BigInt(bps[i]!)) / 10_000n;
          if (i !== to) expect(p).toBe(exact);
          else expect(p - exact).toBeLessThan(BigInt(bps.length));
        });
      }),
    );
  });
});
