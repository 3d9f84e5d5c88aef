import type { PoolClient } from 'pg';
import { BusinessError } from '../../domain/errors';
import type { LotSource } from '../../domain/ledger-types';
import { allocate, isSpendable, type Allocation, type LotCategory, type SpendableLot } from '../../domain/lots';
import { formatMicros } from '../../domain/money';
import type { LotChange } from './write-transaction';
import { prepared } from '../prepared';

export interface WalletLot extends SpendableLot {
  source: LotSource;
}

type LotRow = { id: string; priority: number; expires_at: Date | null; category: LotCategory; created_at: Date; available: bigint; source: LotSource };

// Spendable lots in consumption order come from first_spendable_lots (migration 1763802900000), the one
// definition: not past expiry (now() is the transaction's start, never later than the operation's own
// clock, so domain/lots.ts isSpendable has the last word), ordered as domain/lots.ts
// compareForConsumption by the lots_spendable index.

/** How many lots an operation's first read takes; a wallet of many small lots is read whole only when needed. */
export const FIRST_LOTS = 16;

export function toWalletLots(rows: LotRow[]): WalletLot[] {
  return rows.map((r) => ({ id: r.id, priority: r.priority, expiresAt: r.expires_at, category: r.category, createdAt: r.created_at, available: r.available, source: r.source }));
}

/** The wallet's lots that still hold available credits (the wallet must already be locked). */
export async function readSpendableLots(client: PoolClient, walletId: string): Promise<WalletLot[]> {
  // LIMIT NULL: all of them.
  const { rows } = await client.query<LotRow>({ name: 'ledger-spendable-lots', text: 'SELECT * FROM first_spendable_lots(ARRAY[$1]::uuid[], NULL)', values: [walletId] });
  return toWalletLots(rows);
}

/**
 * The first FIRST_LOTS spendable lots of each wallet, in consumption order, as a statement for a
 * transaction's opening batch; rows carry their wallet as `account_id`. Through first_spendable_lots
 * (migration 1763802900000), so no plan can read the cooperative's lots instead of the wallet's.
 */
const firstSpendableLots = prepared('ledger_first_lots', 'SELECT * FROM first_spendable_lots($1::uuid[], $2::integer)');
export function firstSpendableLotsStatement(walletIds: readonly string[]): string {
  return firstSpendableLots(walletIds, FIRST_LOTS);
}

/** Rows of firstSpendableLotsStatement by wallet. */
export function walletLotsByAccount(rows: Array<LotRow & { account_id: string }>): Map<string, WalletLot[]> {
  const byWallet = new Map<string, WalletLot[]>();
  for (const r of rows) {
    const lots = byWallet.get(r.account_id) ?? [];
    lots.push(...toWalletLots([r]));
    byWallet.set(r.account_id, lots);
  }
  return byWallet;
}

/**
 * The lots an operation spends from: the first page read in the opening batch, or all of the wallet's
 * spendable lots when asked to cover more than that page holds.
 */
export function lotsReader(client: PoolClient, walletId: string, first: WalletLot[], now: Date): (covering?: bigint) => Promise<WalletLot[]> {
  return async (covering) => {
    const truncated = first.length === FIRST_LOTS;
    const enough = covering !== undefined && first.reduce((sum, l) => sum + (isSpendable(l, now) ? l.available : 0n), 0n) >= covering;
    return truncated && !enough ? readSpendableLots(client, walletId) : first;
  };
}

/**
 * The wallet's open received lots, one per lot key (domain/lots.ts lotKey): where a transfer's credits
 * merge. Bounded by the number of distinct keys, since transfers merge rather than add lots. Through
 * merge_target_lots (migration 1763803500000), which reads lots by wallet only, never by cooperative.
 */
const mergeTargets = prepared('ledger_merge_targets', 'SELECT * FROM merge_target_lots($1::uuid)');
export function mergeTargetsStatement(walletId: string): string {
  return mergeTargets(walletId);
}

/** Allocates `amount` in consumption order or fails with INSUFFICIENT_FUNDS, naming the shortfall. */
export function allocateOrFail(lots: WalletLot[], amount: bigint, now: Date): Allocation[] {
  const result = allocate(lots, amount, now);
  if ('shortfall' in result) {
    throw new BusinessError('INSUFFICIENT_FUNDS', `Insufficient credits: ${formatMicros(result.shortfall)} CLOUD short`);
  }
  return result.allocations;
}

/** Lot deltas for consuming allocations outright. */
export function consume(allocations: Allocation[]): LotChange[] {
  return allocations.map((a) => ({ lotId: a.lotId, available: -a.amount, reserved: 0n, consumed: a.amount }));
}

/** Looks up the category of lots read earlier in the same operation. */
export function categoryOf(lots: WalletLot[]): (lotId: string) => LotCategory {
  const byId = new Map(lots.map((l) => [l.id, l.category]));
  return (lotId) => {
    const category = byId.get(lotId);
    if (!category) throw new Error(`lot ${lotId} was not read by this operation`);
    return category;
  };
}
