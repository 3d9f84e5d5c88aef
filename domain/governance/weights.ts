/**
 * Vote weights, as the spec's `vote_weight`: decimals with four places, held as exact integers of
 * 1/10000 (bigint) everywhere they are summed or compared. 10000 is a weight of 1, the default.
 */
export const WEIGHT_SCALE = 10_000n;
export const DEFAULT_WEIGHT = WEIGHT_SCALE;
/** The largest weight a member may carry (100,000,000.0000): sums over millions of members stay far inside bigint, and the column's CHECK says the same. */
export const MAX_WEIGHT = 100_000_000n * WEIGHT_SCALE;

const WEIGHT_TEXT = /^(0|[1-9]\d{0,8})(?:\.(\d{1,4}))?$/;

/** "1.5" → 15000n. Refuses signs, exponents, more than four decimals and anything above MAX_WEIGHT. */
export function parseWeight(text: string): bigint {
  const m = WEIGHT_TEXT.exec(text);
  if (!m) throw new RangeError('a weight is a decimal with at most four places, such as "1.5"');
  const units = BigInt(m[1]!) * WEIGHT_SCALE + BigInt((m[2] ?? '').padEnd(4, '0'));
  if (units > MAX_WEIGHT) throw new RangeError(`a weight is at most ${formatWeight(MAX_WEIGHT)}`);
  return units;
}

/** 15000n → "1.5", 30000n → "3": the shortest exact decimal. */
export function formatWeight(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const whole = abs / WEIGHT_SCALE;
  const fraction = (abs % WEIGHT_SCALE).toString().padStart(4, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}
