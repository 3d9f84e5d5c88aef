/** Named packs a member can buy instead of an amount (1 CLOUD = 10 USD). */
export const CREDIT_PACKS = {
  starter: 1_000_000n, // 1 CLOUD, 10 USD
  standard: 5_000_000n, // 5 CLOUD, 50 USD
  team: 25_000_000n, // 25 CLOUD, 250 USD
} as const;

/** Limits of one card purchase: at least 1 CLOUD (10 USD), at most 10,000 CLOUD. */
export const MIN_PURCHASE = 1_000_000n;
export const MAX_PURCHASE = 10_000n * 1_000_000n;
