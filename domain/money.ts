/**
 * Money is integers: µCLOUD (1 CLOUD = 1,000,000 µCLOUD) and µUSD (1 USD = 1,000,000 µUSD), held as
 * bigint. 1 CLOUD = 10 USD, so 1 µCLOUD = 10 µUSD exactly. The API speaks decimal strings.
 */
export const CURRENCIES = ['CLOUD', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const MICRO = 1_000_000n;
export const USD_MICROS_PER_CLOUD_MICRO = 10n;
export const MAX_DECIMALS = 6;
/** Largest amount one operation may move: 10^11 CLOUD, so its USD leg (×10) still fits BIGINT. */
export const MAX_AMOUNT = 10n ** 17n;

export class MoneyFormatError extends Error {
  override readonly name = 'MoneyFormatError';
}

const DECIMAL = /^(0|[1-9]\d{0,17})(?:\.(\d{1,6}))?$/;

/** "12.5" → 12_500_000n. Refuses signs, exponents, more than 6 decimals and anything not a plain decimal. */
export function parseMicros(text: string): bigint {
  const match = DECIMAL.exec(text);
  if (!match) {
    if (/^\d+\.\d{7,}$/.test(text)) throw new MoneyFormatError(`at most ${MAX_DECIMALS} decimal places are allowed`);
    throw new MoneyFormatError('must be a decimal string such as "12.5", with no sign or exponent');
  }
  const whole = BigInt(match[1]!);
  const fraction = BigInt((match[2] ?? '').padEnd(MAX_DECIMALS, '0'));
  const value = whole * MICRO + fraction;
  if (value > MAX_AMOUNT) throw new MoneyFormatError('is too large');
  return value;
}

/** 12_500_000n → "12.5"; negative amounts keep their sign. Shortest exact form. */
export function formatMicros(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const whole = abs / MICRO;
  const fraction = (abs % MICRO).toString().padStart(MAX_DECIMALS, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

export function cloudToUsd(micros: bigint): bigint {
  return micros * USD_MICROS_PER_CLOUD_MICRO;
}

/** Stripe charges in cents: 1 CLOUD = 10 USD = 1000 cents. Exact for any µCLOUD multiple of 1000. */
export function cloudToCents(micros: bigint): bigint {
  if (micros % 1_000n !== 0n) throw new MoneyFormatError('a card payment must be a whole number of cents (multiples of 0.001 CLOUD)');
  return micros / 1_000n;
}

/**
 * Price of a quantity at a rate: `quantity` in micro-units, `rate` in µCLOUD per whole unit.
 * Rounds half up to the nearest µCLOUD: the one rounding rule for usage charges.
 */
export function priceUsage(quantityMicros: bigint, ratePerUnit: bigint): bigint {
  // A rate of zero is legitimate (an infrastructure cost of nothing); quantity must be positive.
  if (quantityMicros <= 0n || ratePerUnit < 0n) throw new MoneyFormatError('quantity must be positive and rate not negative');
  return (quantityMicros * ratePerUnit + MICRO / 2n) / MICRO;
}

/**
 * Splits `total` by basis points (summing to 10,000). Each part is rounded down; the remainder
 * (always less than the number of parts) goes to the part at `remainderTo`, so the parts sum exactly
 * to the whole.
 */
export function splitByBasisPoints(total: bigint, basisPoints: readonly number[], remainderTo: number): bigint[] {
  if (total < 0n) throw new MoneyFormatError('cannot split a negative amount');
  if (basisPoints.some((b) => !Number.isInteger(b) || b < 0)) throw new MoneyFormatError('basis points must be non-negative integers');
  if (basisPoints.reduce((a, b) => a + b, 0) !== 10_000) throw new MoneyFormatError('basis points must sum to 10000');
  if (!Number.isInteger(remainderTo) || remainderTo < 0 || remainderTo >= basisPoints.length) throw new MoneyFormatError('remainder owner must be one of the parts');
  const parts = basisPoints.map((b) => (total * BigInt(b)) / 10_000n);
  const remainder = total - parts.reduce((a, b) => a + b, 0n);
  parts[remainderTo]! += remainder;
  return parts;
}

/**
 * Splits `total` pro rata to `weights` by largest remainder: each part is its exact share rounded down,
 * then the units left over (fewer than the number of parts) go one each to the parts with the largest
 * fractions of a unit, ties to the earlier part. The parts sum exactly to `total`; a larger weight never
 * gets less than a smaller one, and two equal weights differ by at most one unit. Callers order the
 * parts (by id) so that ties break the same way every time.
 */
export function splitProRata(total: bigint, weights: readonly bigint[]): bigint[] {
  if (total < 0n) throw new MoneyFormatError('cannot split a negative amount');
  if (weights.some((w) => w < 0n)) throw new MoneyFormatError('weights must not be negative');
  const sum = weights.reduce((a, w) => a + w, 0n);
  if (sum === 0n) throw new MoneyFormatError('at least one weight must be positive');
  const parts = weights.map((w) => (total * w) / sum);
  let left = total - parts.reduce((a, p) => a + p, 0n);
  // The fraction each part lost, in units of 1/sum: compared exactly, as integers.
  const byFraction = weights.map((w, i) => ({ i, fraction: (total * w) % sum })).sort((a, b) => (a.fraction === b.fraction ? a.i - b.i : a.fraction > b.fraction ? -1 : 1));
  for (const { i } of byFraction) {
    if (left === 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}
