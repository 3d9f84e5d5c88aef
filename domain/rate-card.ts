/** The four resource primitives CLOUD credits redeem for, and the V1 rate card from the seeds. */
export const PRIMITIVES = ['compute_hours', 'transfer_gb', 'long_term_memory_gb_months', 'short_term_memory_gb_hours'] as const;
export type Primitive = (typeof PRIMITIVES)[number];

export interface Rate {
  /** µCLOUD per whole unit. */
  rate: bigint;
  /** µUSD of infrastructure cost per whole unit. */
  infrastructureCost: bigint;
}

/**
 * V1: 1.0 CLOUD per compute-hour, 0.1 per GB transferred, 0.05 per GB-month of long-term memory,
 * 0.5 per GB-hour of short-term memory. Infrastructure costs are the seeds' ~1% of price.
 */
export const V1_RATES: Record<Primitive, Rate> = {
  compute_hours: { rate: 1_000_000n, infrastructureCost: 100_000n },
  transfer_gb: { rate: 100_000n, infrastructureCost: 10_000n },
  long_term_memory_gb_months: { rate: 50_000n, infrastructureCost: 5_000n },
  short_term_memory_gb_hours: { rate: 500_000n, infrastructureCost: 50_000n },
};

/** Most usage records one batch redeems: a request stays a few hundred kilobytes and its transaction short. */
export const MAX_USAGE_BATCH = 1_000;
