import type { PoolClient } from 'pg';
import { LedgerError } from '../../domain/ledger-error';
import { allocate, type Allocation, type LotCategory, type SpendableLot } from '../../domain/lots';
import { formatMicros } from '../../domain/money';
import type { LotChange } from './write-transaction';

export interface WalletLot extends SpendableLot {
  source: string;
}

/** The wallet's lots that still hold available credits (the wallet must already be locked). */
export async function readSpendableLots(client: PoolClient, walletId: string): Promise<WalletLot[]> {
  const { rows } = await client.query<{ id: string; priority: number; expires_at: Date | null; category: 'promotional' | 'paid'; created_at: Date; available: bigint; source: string }>(
    'SELECT id, priority, expires_at, category, created_at, available, source FROM lots WHERE account_id = $1 AND available > 0',
    [walletId],
  );
  return rows.map((r) => ({ id: r.id, priority: r.priority, expiresAt: r.expires_at, category: r.category, createdAt: r.created_at, available: r.available, source: r.source }));
}

/** Allocates `amount` in consumption order or fails with INSUFFICIENT_FUNDS, naming the shortfall. */
export function allocateOrFail(lots: WalletLot[], amount: bigint, now: Date): Allocation[] {
  const result = allocate(lots, amount, now);
  if ('shortfall' in result) {
    throw new LedgerError('INSUFFICIENT_FUNDS', `Insufficient credits: ${formatMicros(result.shortfall)} CLOUD short`);
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
