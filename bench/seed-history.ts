import type { Pool } from 'pg';
import { MEMBER_ACCOUNTS } from '../domain/chart-of-accounts';

const BATCH = 100_000;

/**
 * Gives a cooperative a long history quickly, in SQL as the database owner: `count` transfers of
 * 1 µCLOUD between its members' wallets in a ring (each member sends and receives equally often, so no
 * balance changes), each with its two entries, the lot its receiver got (since spent: available 0) and
 * that lot's movement, and a released hold for every tenth. Triggers are off while seeding (session_replication_role = replica), so the rows
 * are written consistent by construction: every ledger invariant (db/ledger/integrity.ts) still holds.
 * `count` is rounded up to a multiple of the member count. Needs a superuser connection.
 */
export async function seedHistory(pool: Pool, cooperativeId: string, count: number, progress: (done: number, total: number) => void = () => undefined): Promise<number> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM accounts WHERE cooperative_id = $1 AND code = '${MEMBER_ACCOUNTS.wallet.code}'`,
      [cooperativeId],
    );
    const wallets = rows[0]!.n;
    if (wallets < 2) throw new Error('seeding history needs a cooperative with at least two members');
    const total = Math.ceil(count / wallets) * wallets;
    for (let from = 0; from < total; from += BATCH) {
      const to = Math.min(total, from + BATCH);
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(
        `WITH w AS (
           SELECT array_agg(id ORDER BY member_id) AS ids, array_agg(member_id ORDER BY member_id) AS members, count(*)::int AS n
             FROM accounts WHERE cooperative_id = $1 AND code = '${MEMBER_ACCOUNTS.wallet.code}'
         ), s AS MATERIALIZED (
           SELECT k, gen_random_uuid() AS tx, gen_random_uuid() AS lot, w.ids[k % w.n + 1] AS sender, w.ids[(k + 1) % w.n + 1] AS receiver,
                  w.members[(k + 1) % w.n + 1] AS receiver_member, now() - make_interval(secs => ($3 - k) * 10) AS at
             FROM generate_series($2::int, $3::int - 1) AS k, w
         ), t AS (
           INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash, metadata, created_at)
           SELECT tx, $1, 'transfer', 'history-' || k, 'history', '{}', at FROM s
         ), e AS (
           INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount)
           SELECT tx, $1, x.account, 'CLOUD', x.amount FROM s, LATERAL (VALUES (s.sender, 1::bigint), (s.receiver, -1::bigint)) AS x(account, amount)
         ), h AS (
           INSERT INTO holds (id, cooperative_id, member_id, account_id, idempotency_key, request_hash, amount, status, expires_at, resolved_at, created_at)
           SELECT gen_random_uuid(), $1, receiver_member, receiver, 'history-hold-' || k, 'history', 1, 'released', at, at, at FROM s WHERE k % 10 = 0
         ), l AS (
           INSERT INTO lots (id, cooperative_id, account_id, member_id, source, source_id, category, transaction_id, original, available, consumed, created_at)
           SELECT lot, $1, receiver, receiver_member, 'transfer_in', tx || ':history', 'paid', tx, 1, 0, 1, at FROM s
         )
         INSERT INTO lot_movements (transaction_id, lot_id, cooperative_id, amount) SELECT tx, lot, $1, -1 FROM s`,
        [cooperativeId, from, to],
      );
      await client.query('COMMIT');
      progress(to, total);
    }
    await client.query('ANALYZE transactions, entries, lots, lot_movements, holds');
    return total;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
