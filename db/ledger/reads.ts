import type { Pool } from 'pg';
import type { LedgerTransaction, LotSource } from '../../domain/ledger-types';
import type { LotCategory } from '../../domain/lots';
import type { MemberBalance } from '../../domain/member-balance';
import { USD_MICROS_PER_CLOUD_MICRO } from '../../domain/money';
import { resolveAccounts, resolveAccountsCached } from './accounts';
import { transactionsPage } from './replay';
import { readCreationCursor, toPage, type Page } from '../cursor';
import { activePositions } from '../staking-positions';
import { inTenantTransaction, read, readInTenant } from '../transaction';

/** At most this many lots in a balance read: its size does not grow with the wallet's history. */
export const BALANCE_LOTS = 100;

/** Rows of a member's lots as the balance shows them. */
interface LotRow { id: string; source: LotSource; source_id: string; category: LotCategory; priority: number; expires_at: Date | null; original: bigint; available: bigint; reserved: bigint }

/** A member's balance: every figure read on one snapshot, in one round trip once the member's accounts are known to this process. */
export async function memberBalance(pool: Pool, cooperativeId: string, memberId: string, now = new Date()): Promise<MemberBalance> {
  const [wallet, staking, receivable] = await resolveAccountsCached(pool, cooperativeId, [
    { member: memberId, account: 'wallet' },
    { member: memberId, account: 'staking' },
    { member: memberId, account: 'receivable' },
  ]);
  const [balanceOf, totals, lots, positions] = await readInTenant(pool, cooperativeId, [
    read(
      'balance_accounts',
      'SELECT account_id, sum(balance)::text AS balance FROM account_balances WHERE account_id = ANY($1::uuid[]) GROUP BY account_id',
      [[wallet!.id, staking!.id, receivable!.id]],
      (rows: Array<{ account_id: string; balance: string }>) => (id: string) => BigInt(rows.find((b) => b.account_id === id)?.balance ?? '0'),
    ),
    // Totals over every open lot, in SQL; the list shows the first BALANCE_LOTS in consumption order.
    read(
      'balance_lot_totals',
      `SELECT coalesce(sum(available) FILTER (WHERE expires_at IS NULL OR expires_at > $2), 0)::bigint AS available, coalesce(sum(reserved), 0)::bigint AS held,
              coalesce(sum(available) FILTER (WHERE expires_at <= $2), 0)::bigint AS expiring, count(*)::int AS lots
         FROM lots WHERE account_id = $1 AND (available > 0 OR reserved > 0)`,
      [wallet!.id, now],
      (rows: Array<{ available: bigint; held: bigint; expiring: bigint; lots: number }>) => rows[0]!,
    ),
    read(
      'balance_lots',
      `SELECT id, source, source_id, category, priority, expires_at, original, available, reserved FROM lots
        WHERE account_id = $1 AND (available > 0 OR reserved > 0) ORDER BY priority, expires_at NULLS LAST, category DESC, created_at, id LIMIT ${BALANCE_LOTS}`,
      [wallet!.id],
      (rows: LotRow[]) => rows.map((r) => ({
        id: r.id, source: r.source, sourceId: r.source_id, category: r.category, priority: r.priority, expiresAt: r.expires_at?.toISOString() ?? null,
        original: r.original, available: r.available, reserved: r.reserved, expired: r.expires_at !== null && r.expires_at <= now,
      })),
    ),
    activePositions(memberId),
  ] as const);
  return {
    memberId,
    available: totals.available,
    held: totals.held,
    expiring: totals.expiring,
    wallet: balanceOf(wallet!.id),
    staked: balanceOf(staking!.id),
    positions,
    debt: balanceOf(receivable!.id) / USD_MICROS_PER_CLOUD_MICRO,
    lots,
    lotCount: totals.lots,
  };
}

export function memberTransactions(pool: Pool, cooperativeId: string, memberId: string, options: { limit: number; cursor?: string }): Promise<Page<LedgerTransaction>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const accounts = await resolveAccounts(client, cooperativeId, [
      { member: memberId, account: 'wallet' },
      { member: memberId, account: 'staking' },
      { member: memberId, account: 'receivable' },
    ]);
    const rows = await transactionsPage(client, accounts.map((a) => a.id), options.limit + 1, after);
    return toPage(rows, options.limit, (r) => [r.position.micros, r.position.id], (r) => r.transaction);
  });
}
