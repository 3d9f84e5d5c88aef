/**
 * Lots say where a wallet's credits came from. Consumption order: lowest priority number first, then
 * soonest expiry (no expiry last), then promotional before paid, then oldest, then id (a total order).
 */
export const LOT_CATEGORIES = ['promotional', 'paid'] as const;
export type LotCategory = (typeof LOT_CATEGORIES)[number];

export interface SpendableLot {
  id: string;
  priority: number;
  expiresAt: Date | null;
  category: LotCategory;
  createdAt: Date;
  available: bigint;
}

export function compareForConsumption(a: SpendableLot, b: SpendableLot): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ae = a.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const be = b.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (ae !== be) return ae < be ? -1 : 1;
  if (a.category !== b.category) return a.category === 'promotional' ? -1 : 1;
  const ac = a.createdAt.getTime();
  const bc = b.createdAt.getTime();
  if (ac !== bc) return ac - bc;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Lots that can be spent at `now`: something available and not expired. */
export function isSpendable(lot: SpendableLot, now: Date): boolean {
  return lot.available > 0n && (lot.expiresAt === null || lot.expiresAt.getTime() > now.getTime());
}

export interface Allocation {
  lotId: string;
  amount: bigint;
}

/**
 * The one lot-taking routine: takes `amount` from `lots` in the order given, as much from each as it
 * holds. Returns what each lot gives and what is left when they do not cover it. Callers choose the
 * order (consumption order, or a refunded payment's own lot first) and what a shortfall means.
 */
export function takeInOrder(lots: ReadonlyArray<{ id: string; available: bigint }>, amount: bigint): { allocations: Allocation[]; left: bigint } {
  const allocations: Allocation[] = [];
  let left = amount;
  for (const lot of lots) {
    if (left === 0n) break;
    const take = lot.available < left ? lot.available : left;
    if (take > 0n) allocations.push({ lotId: lot.id, amount: take });
    left -= take;
  }
  return { allocations, left };
}

/**
 * Takes `amount` from the spendable lots in consumption order. Returns the allocations, or the shortfall
 * when the spendable lots do not cover it (nothing is allocated then).
 */
export function allocate(lots: readonly SpendableLot[], amount: bigint, now: Date): { allocations: Allocation[] } | { shortfall: bigint } {
  if (amount <= 0n) throw new RangeError('amount must be positive');
  const { allocations, left } = takeInOrder(lots.filter((l) => isSpendable(l, now)).sort(compareForConsumption), amount);
  return left === 0n ? { allocations } : { shortfall: left };
}

/**
 * What makes credits interchangeable in a wallet: lots with the same key are consumed alike, so credits
 * a member receives join their open received lot with this key rather than open one more lot.
 */
export function lotKey(lot: { category: LotCategory; priority: number; expiresAt: Date | null }): string {
  return `${lot.category}|${lot.priority}|${lot.expiresAt?.getTime() ?? ''}`;
}
