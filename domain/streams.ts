import type { CooperativeAccountKey } from './chart-of-accounts';

/**
 * Streams: Superfluid flows a cooperative books. A stream is registered by its flow's key (super token,
 * sender, receiver); what flows, and when it starts, changes rate or stops, is read from the chain, never
 * taken from the request. Each sample posts the flow of one half-open UTC interval to the ledger.
 */

/** Inbound streams are revenue; outbound ones an expense, member compensation or a distribution. */
export const STREAM_DIRECTIONS = ['inbound', 'outbound'] as const;
export type StreamDirection = (typeof STREAM_DIRECTIONS)[number];

/** The ledger account a stream's samples post to, besides the streamed tokens held (1310). */
export const STREAM_ACCOUNTS = ['revenue', 'expense', 'member_compensation', 'distribution'] as const;
export type StreamAccount = (typeof STREAM_ACCOUNTS)[number];

/** Which accounts each direction may post to: the first of each is its default. */
export const STREAM_ACCOUNTS_BY_DIRECTION: Record<StreamDirection, readonly StreamAccount[]> = {
  inbound: ['revenue'],
  outbound: ['expense', 'member_compensation', 'distribution'],
};

/** The chart-of-accounts entry behind each stream account. */
export const STREAM_ACCOUNT_CODES: Record<StreamAccount, CooperativeAccountKey> = {
  revenue: 'streamRevenue',
  expense: 'streamExpense',
  member_compensation: 'memberCompensation',
  distribution: 'streamDistributions',
};

/** How often a stream is sampled; every stream is also sampled at every period boundary. */
export const SAMPLING_INTERVALS = ['hourly', 'daily', 'weekly', 'period_end'] as const;
export type SamplingInterval = (typeof SAMPLING_INTERVALS)[number];

export const STREAM_STATUSES = ['active', 'inactive'] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

/**
 * The unit the stream's agreement is stated in: a rate agreed in USD (a salary paid in a stablecoin) or
 * in the token itself (0.015 ETHx a month). The books are in USD either way (samples post µUSD and keep
 * the token amount exactly beside); the denomination says which of the two the agreement is held to.
 */
export const STREAM_DENOMINATIONS = ['usd', 'native'] as const;
export type StreamDenomination = (typeof STREAM_DENOMINATIONS)[number];

/** Where a token's USD price comes from. */
export const PRICE_SOURCE_TYPES = ['chainlink', 'http', 'manual'] as const;
export type PriceSourceType = (typeof PRICE_SOURCE_TYPES)[number];

/** The price at the interval's end, or its time-weighted average over the interval. */
export const PRICE_AVERAGING = ['spot', 'twap'] as const;
export type PriceAveraging = (typeof PRICE_AVERAGING)[number];

/**
 * One price source of a stream, tried in the stream's order. An observation older than `maxAgeSeconds`
 * at the instant it would price is stale, and the next source is tried.
 */
export type PriceSource =
  /** A Chainlink-style aggregator (AggregatorV3Interface) on the stream's chain. */
  | { type: 'chainlink'; aggregator: `0x${string}`; maxAgeSeconds: number }
  /** An HTTP price source named in the configuration (PRICE_HTTP_SOURCES), asked for `asset`. */
  | { type: 'http'; source: string; asset: string; maxAgeSeconds: number }
  /** The latest price an operator set for the token, with a reason. */
  | { type: 'manual'; maxAgeSeconds: number };

export interface FlowKey {
  token: `0x${string}`;
  sender: `0x${string}`;
  receiver: `0x${string}`;
}

/**
 * Where a stream's books stand on the chain: every flow up to `at` is booked, `flowRate` (wei per second)
 * is the rate in force from `at` on, and `block` is a block at `at`'s boundary: each block up to it has a
 * timestamp at or before `at`, each block after it a timestamp at or after `at`. Registration sets the
 * first position; each sample moves it to the end of its interval.
 */
export interface SamplingPosition {
  at: string;
  flowRate: bigint;
  block: bigint;
}

export interface Stream extends FlowKey {
  id: string;
  cooperativeId: string;
  name: string | null;
  direction: StreamDirection;
  account: StreamAccount;
  samplingInterval: SamplingInterval;
  priceSources: PriceSource[];
  priceAveraging: PriceAveraging;
  denomination: StreamDenomination;
  status: StreamStatus;
  /** Where sampling started: the chain's state when the stream was registered. */
  registeredAt: SamplingPosition;
  /** Where its books stand: the end of its last sample, or its registration. */
  sampledUntil: SamplingPosition;
  createdAt: string;
  deactivatedAt: string | null;
}

/** Why `account` cannot be the account of a stream in `direction`, if it cannot. */
export function streamAccountProblem(direction: StreamDirection, account: StreamAccount): string | undefined {
  const allowed = STREAM_ACCOUNTS_BY_DIRECTION[direction];
  return allowed.includes(account) ? undefined : `an ${direction} stream posts to ${allowed.join(', ')}`;
}

/** Why a stream's price sources cannot work, if they cannot: each type at most once, HTTP sources by a configured name. */
export function priceSourcesProblem(sources: readonly PriceSource[], httpSources: ReadonlySet<string>): string | undefined {
  if (sources.length === 0) return 'at least one price source is needed';
  const unknown = sources.find((s) => s.type === 'http' && !httpSources.has(s.source));
  if (unknown?.type === 'http') return `no HTTP price source '${unknown.source}' is configured (PRICE_HTTP_SOURCES has ${[...httpSources].join(', ') || 'none'})`;
  const keys = sources.map((s) => (s.type === 'chainlink' ? `chainlink:${s.aggregator.toLowerCase()}` : s.type === 'http' ? `http:${s.source}:${s.asset}` : 'manual'));
  if (new Set(keys).size !== keys.length) return 'a price source is listed twice';
  return undefined;
}

/** How a sample was priced: the source that could, what it gave and how old that was. */
export interface SamplePricing {
  source: PriceSourceType;
  /** The aggregator's address, `<http source>:<asset>`, or the manual price's id. */
  reference: string;
  averaging: PriceAveraging;
  /** USD per whole token × 10^18 (an average rounded half up). */
  price: bigint;
  /** When the newest observation used was made. */
  observedAt: string;
  ageSeconds: bigint;
}

/** One sample: the flow of one stream over [intervalStart, intervalEnd), valued and posted. */
export interface StreamSample {
  id: string;
  cooperativeId: string;
  streamId: string;
  intervalStart: string;
  intervalEnd: string;
  /** Wei the flow moved over the interval, exactly. */
  amountWei: bigint;
  /** The rate in force from the interval's end on, and the block at its boundary. */
  endFlowRate: bigint;
  endBlock: bigint;
  /** None when nothing flowed. */
  pricing: SamplePricing | null;
  /** µUSD posted (rounded half up once). */
  amountUsd: bigint;
  /** The ledger transaction; none when the sample is worth 0 µUSD. */
  transactionId: string | null;
  createdAt: string;
}

/** A sample's business key: one per stream and interval. */
export function streamSampleKey(streamId: string, start: string, end: string): string {
  return `stream-sample:${streamId}:${start}:${end}`;
}
