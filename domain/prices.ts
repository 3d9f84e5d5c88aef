import type { PriceAveraging } from './streams';

/**
 * Token prices and what a quantity of tokens is worth in µUSD. A price is USD per whole token in fixed
 * point with 18 decimals (a Chainlink answer of 8 decimals, or a decimal string, scales to it exactly).
 * A source gives observations (a price and when it was observed); whether they can price an interval
 * is decided here, the same way for every source: the spot price at the interval's end, or the
 * time-weighted average over it, from observations no older than the source's limit at any instant
 * they are used for. An unusable source is said why, and the next one is tried; nothing is guessed.
 */
export const PRICE_DECIMALS = 18;
const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);
/** Every Superfluid super token has 18 decimals: wei per whole token. */
const WEI_PER_TOKEN = 10n ** 18n;
const MICROS_PER_USD = 1_000_000n;

export interface PriceObservation {
  /** USD per whole token × 10^18. */
  price: bigint;
  /** When it was observed (Unix seconds). */
  at: bigint;
  /** Which observation it is, where the source names them (a manual price's id, an aggregator's round). */
  reference?: string;
}

/** An exact price, in units of 10^-18 USD per token: a time-weighted average is a fraction of them. */
export interface Price {
  numerator: bigint;
  denominator: bigint;
}

export type PriceJudgement =
  | { usable: true; price: Price; /** The newest observation used: the one in force at the end. */ newest: PriceObservation; /** How old an observation in use was at its worst moment (the spot price's age at the end). */ ageSeconds: bigint }
  | { usable: false; reason: string };

export interface PricingRequest {
  averaging: PriceAveraging;
  /** The interval [start, end), Unix seconds. */
  start: bigint;
  end: bigint;
  maxAgeSeconds: bigint;
}

/** The observation in force at `at`: the newest at or before it (of equal times, the last given). */
function inForce(observations: readonly PriceObservation[], at: bigint): PriceObservation | undefined {
  let found: PriceObservation | undefined;
  for (const o of observations) if (o.at <= at && (found === undefined || o.at >= found.at)) found = o;
  return found;
}

function stale(age: bigint, maxAge: bigint): string {
  return `the newest price is ${age} s old, over the limit of ${maxAge} s`;
}

/** Whether `observations` can price the interval as asked, and at what price. */
export function judgePrice(observations: readonly PriceObservation[], req: PricingRequest): PriceJudgement {
  const bad = observations.find((o) => o.price <= 0n);
  if (bad) return { usable: false, reason: `the source gave a price that is not positive (${bad.price} at ${bad.at})` };
  if (req.averaging === 'spot') {
    const spot = inForce(observations, req.end);
    if (!spot) return { usable: false, reason: 'the source has no price at or before the end of the interval' };
    const age = req.end - spot.at;
    if (age > req.maxAgeSeconds) return { usable: false, reason: stale(age, req.maxAgeSeconds) };
    return { usable: true, price: { numerator: spot.price, denominator: 1n }, newest: spot, ageSeconds: age };
  }
  // Time-weighted: each observation prices the part of the interval from when it was observed until the
  // next one, and must not be older than the limit by the end of that part.
  const first = inForce(observations, req.start);
  if (!first) return { usable: false, reason: 'the source has no price at or before the start of the interval' };
  const within = observations.filter((o) => o.at > req.start && o.at < req.end).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const changes = [first, ...within];
  let weighted = 0n;
  let worstAge = 0n;
  for (let i = 0; i < changes.length; i++) {
    const from = i === 0 ? req.start : changes[i]!.at;
    const until = i + 1 < changes.length ? changes[i + 1]!.at : req.end;
    const used = changes[i]!;
    weighted += used.price * (until - from);
    const age = until - used.at;
    if (age > worstAge) worstAge = age;
  }
  if (worstAge > req.maxAgeSeconds) return { usable: false, reason: stale(worstAge, req.maxAgeSeconds) };
  return { usable: true, price: { numerator: weighted, denominator: req.end - req.start }, newest: changes.at(-1)!, ageSeconds: worstAge };
}

/** What `wei` tokens are worth at `price`, in µUSD, rounded half up: the one rounding of a sample. */
export function weiToMicroUsd(wei: bigint, price: Price): bigint {
  if (wei < 0n) throw new RangeError('a token quantity is not negative');
  const numerator = wei * price.numerator * MICROS_PER_USD;
  const denominator = WEI_PER_TOKEN * PRICE_SCALE * price.denominator;
  return (2n * numerator + denominator) / (2n * denominator);
}

/** A price to 18 decimals, rounded half up: how a sample records the (possibly averaged) price it used. */
export function roundedPrice(price: Price): bigint {
  return (2n * price.numerator + price.denominator) / (2n * price.denominator);
}

const DECIMAL_PRICE = /^(0|[1-9]\d{0,17})(?:\.(\d{1,18}))?$/;

/** "1234.5" → 1234.5 × 10^18. Refuses signs, exponents, zero and more than 18 decimals. */
export function parsePrice(text: string): bigint {
  const match = DECIMAL_PRICE.exec(text);
  if (!match) throw new RangeError('a price is a decimal string such as "1.0003", with at most 18 decimals and no sign or exponent');
  const value = BigInt(match[1]!) * PRICE_SCALE + BigInt((match[2] ?? '').padEnd(PRICE_DECIMALS, '0'));
  if (value === 0n) throw new RangeError('a price is positive');
  return value;
}

/** 1234.5 × 10^18 → "1234.5". */
export function formatPrice(value: bigint): string {
  const whole = value / PRICE_SCALE;
  const fraction = (value % PRICE_SCALE).toString().padStart(PRICE_DECIMALS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** An aggregator's answer with `decimals` decimals, as a price. Exact for up to 18 decimals. */
export function scaleAnswer(answer: bigint, decimals: number): bigint {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > PRICE_DECIMALS) throw new RangeError(`an aggregator with ${decimals} decimals is not supported (0 to 18)`);
  return answer * 10n ** BigInt(PRICE_DECIMALS - decimals);
}
