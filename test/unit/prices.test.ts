import { formatPrice, judgePrice, parsePrice, roundedPrice, scaleAnswer, weiToMicroUsd } from '../../domain/prices';

const usd = (text: string) => parsePrice(text);
const obs = (price: string, at: number) => ({ price: usd(price), at: BigInt(at) });

describe('prices', () => {
  it('parse and format decimal USD prices exactly, to 18 decimals', () => {
    expect(usd('1')).toBe(10n ** 18n);
    expect(usd('0.000000000000000001')).toBe(1n);
    expect(formatPrice(usd('3012.55'))).toBe('3012.55');
    for (const bad of ['0', '-1', '1e3', '1.0000000000000000001', ' 1', '']) expect(() => parsePrice(bad)).toThrow(RangeError);
    expect(scaleAnswer(300_000_000_000n, 8)).toBe(usd('3000'));
    expect(() => scaleAnswer(1n, 19)).toThrow(RangeError);
  });

  it('convert wei to µUSD rounding half up, once', () => {
    expect(weiToMicroUsd(10n ** 18n, { numerator: usd('1.5'), denominator: 1n })).toBe(1_500_000n);
    // 0.5 µUSD rounds up; just under it rounds down.
    expect(weiToMicroUsd(5n * 10n ** 11n, { numerator: usd('1'), denominator: 1n })).toBe(1n);
    expect(weiToMicroUsd(5n * 10n ** 11n - 1n, { numerator: usd('1'), denominator: 1n })).toBe(0n);
    // A third of a dollar's average, over a whole token: 333,333.33… µUSD.
    expect(weiToMicroUsd(10n ** 18n, { numerator: usd('1'), denominator: 3n })).toBe(333_333n);
    expect(roundedPrice({ numerator: 2n, denominator: 3n })).toBe(1n);
  });

  it('take the spot price in force at the end of the interval, within its age limit', () => {
    const observations = [obs('1.00', 100), obs('1.02', 200), obs('1.05', 301)];
    expect(judgePrice(observations, { averaging: 'spot', start: 0n, end: 300n, maxAgeSeconds: 100n })).toEqual({
      usable: true, price: { numerator: usd('1.02'), denominator: 1n }, newest: observations[1], ageSeconds: 100n,
    });
    expect(judgePrice(observations, { averaging: 'spot', start: 0n, end: 300n, maxAgeSeconds: 99n })).toEqual({ usable: false, reason: 'the newest price is 100 s old, over the limit of 99 s' });
    expect(judgePrice(observations, { averaging: 'spot', start: 0n, end: 99n, maxAgeSeconds: 99n })).toMatchObject({ usable: false, reason: expect.stringMatching(/no price at or before the end/) });
    expect(judgePrice([obs('1', 10), { price: 0n, at: 20n }], { averaging: 'spot', start: 0n, end: 30n, maxAgeSeconds: 99n })).toMatchObject({ usable: false, reason: expect.stringMatching(/not positive/) });
  });

  it('average over the interval by the time each price was in force, every part within the age limit', () => {
    // [100, 400): 1.00 for 100 s, 2.00 for 200 s → 5/3.
    const observations = [obs('1', 50), obs('2', 200), obs('9', 400)];
    const twap = judgePrice(observations, { averaging: 'twap', start: 100n, end: 400n, maxAgeSeconds: 200n });
    expect(twap).toEqual({ usable: true, price: { numerator: usd('1') * 100n + usd('2') * 200n, denominator: 300n }, newest: observations[1], ageSeconds: 200n });
    expect(judgePrice(observations, { averaging: 'twap', start: 100n, end: 400n, maxAgeSeconds: 199n })).toMatchObject({ usable: false });
    expect(judgePrice(observations, { averaging: 'twap', start: 40n, end: 400n, maxAgeSeconds: 999n })).toMatchObject({ usable: false, reason: expect.stringMatching(/no price at or before the start/) });
  });
});
