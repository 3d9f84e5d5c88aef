import type { Pool } from 'pg';
import type { LedgerTransaction, LotSource } from '../../domain/ledger-types';
import type { LotCategory } from '../../domain/lots';
import type { MemberBalance } from '../../domain/member-balance';
import { USD_MICROS_PER_CLOUD_MICRO } from '../../domain/money';
import { resolveAccounts } from './accounts';
import { transactionsPage } from './replay';
import { readCreationCursor, toPage, type Page } from '../cursor';
import { activePositions } from '../staking-positions';
import { inTenantTransaction } from '../transaction';

/** At most this many lots in a balance read: its size does not grow with the wallet's history. */
export const BALANCE_LOTS = 100;

export function memberBalance(pool: Pool, cooperativeId: string, memberId: string, now = new Date()): Promise<MemberBalance> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const [wallet, staking, receivable] = await resolveAccounts(client, cooperativeId, [
      { member: memberId, account: 'wallet' },
      { member: memberId, account: 'staking' },
      { member: memberId, account: 'receivable' },
    ]);
    const { rows: balances } = await client.query<{ account_id: string; balance: string }>(
      'SELECT account_id, sum(balance)::text AS balance FROM account_balances WHERE account_id = ANY($1::uuid[]) GROUP BY account_id',
      [[wallet!.id, staking!.id, receivable!.id]],
    );
    const balanceOf = (id: string) => BigInt(balances.find((b) => b.account_id === id)?.balance ?? '0');
    // Totals over every open lot, in SQL; the list shows the first BALANCE_LOTS in consumption order.
    const { rows: totals } = await client.query<{ available: bigint; held: bigint; expiring: bigint; lots: number }>(
      `SELECT coalesce(sum(available) FILTER (WHERE expires_at IS NULL OR expires_at > $2), 0)::bigint AS available, coalesce(sum(reserved), 0)::bigint AS held,
              coalesce(sum(available) FILTER (WHERE expires_at <= $2), 0)::bigint AS expiring, count(*)::int AS lots
         FROM lots WHERE account_id = $1 AND (available > 0 OR reserved > 0)`,
      [wallet!.id, now],
    );
    const { rows } = await client.query<{ id: string; source: LotSource; source_id: string; category: LotCategory; priority: number; expires_at: Date | null; original: bigint; available: bigint; reserved: bigint }>(
      `SELECT id, source, source_id, category, priority, expires_at, original, available, reserved FROM lots
        WHERE account_id = $1 AND (available > 0 OR reserved > 0) ORDER BY priority, expires_at NULLS LAST, category DESC, created_at, id LIMIT ${BALANCE_LOTS}`,
      [wallet!.id],
    );
    const lots = rows.map((r) => ({
      id: r.id, source: r.source, sourceId: r.source_id, category: r.category, priority: r.priority, expiresAt: r.expires_at?.toISOString() ?? null,
      original: r.original, available: r.available, reserved: r.reserved, expired: r.expires_at !== null && r.expires_at <= now,
    }));
    return {
      memberId,
      available: totals[0]!.available,
      held: totals[0]!.held,
      expiring: totals[0]!.expiring,
      wallet: balanceOf(wallet!.id),
      staked: balanceOf(staking!.id),
      positions: await activePositions(client, memberId),
      debt: balanceOf(receivable!.id) / USD_MICROS_PER_CLOUD_MICRO,
      lots,
      lotCount: totals[0]!.lots,
    };
  });
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
