import type { Pool } from 'pg';
import type { LedgerTransaction, LotSource } from '../../domain/ledger-types';
import type { LotCategory } from '../../domain/lots';
import type { LotView, MemberBalance } from '../../domain/member-balance';
import { USD_MICROS_PER_CLOUD_MICRO } from '../../domain/money';
import { resolveAccounts } from './accounts';
import { transactionsPage } from './replay';
import { readCreationCursor, toPage, type Page } from '../cursor';
import { activePositions } from '../staking-positions';
import { inTenantTransaction } from '../transaction';

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
    const { rows } = await client.query<{ id: string; source: LotSource; source_id: string; category: LotCategory; priority: number; expires_at: Date | null; original: bigint; available: bigint; reserved: bigint }>(
      `SELECT id, source, source_id, category, priority, expires_at, original, available, reserved FROM lots
        WHERE account_id = $1 AND (available > 0 OR reserved > 0) ORDER BY priority, expires_at NULLS LAST, category DESC, created_at, id`,
      [wallet!.id],
    );
    const lots = rows.map((r) => ({
      id: r.id, source: r.source, sourceId: r.source_id, category: r.category, priority: r.priority, expiresAt: r.expires_at?.toISOString() ?? null,
      original: r.original, available: r.available, reserved: r.reserved, expired: r.expires_at !== null && r.expires_at <= now,
    }));
    const sum = (f: (l: LotView) => bigint) => lots.reduce((a, l) => a + f(l), 0n);
    return {
      memberId,
      available: sum((l) => (l.expired ? 0n : l.available)),
      held: sum((l) => l.reserved),
      expiring: sum((l) => (l.expired ? l.available : 0n)),
      wallet: balanceOf(wallet!.id),
      staked: balanceOf(staking!.id),
      positions: await activePositions(client, memberId),
      debt: balanceOf(receivable!.id) / USD_MICROS_PER_CLOUD_MICRO,
      lots,
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
