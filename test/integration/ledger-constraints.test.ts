import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import * as ledger from '../../db/ledger';
import { createPool } from '../../db/pool';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * The database's own rules, each proven by raw SQL that bypasses the application and is refused.
 * `asOwner` runs as the table owner (no row-level security); `asTenant` as coop_app in a cooperative.
 */
let pool: Pool;
let coop: string;
let other: string;
let member: string;
let wallet: string;
let issued: string;
let txId: string;
let lotId: string;

beforeAll(async () => {
  pool = createPool(testConfig().database.url, { max: 5 });
  [coop, other] = await Promise.all([provisionCooperative(pool), provisionCooperative(pool)]);
  member = await addMember(pool, coop);
  await addMember(pool, other);
  const minted = await ledger.mint(pool, { cooperativeId: coop, memberId: member, amount: cloud(10), source: 'purchase', sourceId: 'pi_c', idempotencyKey: 'm' });
  txId = minted.transaction.id;
  wallet = minted.transaction.entries.find((e) => e.accountCode === '2100')!.accountId;
  issued = minted.transaction.entries.find((e) => e.accountCode === '1900')!.accountId;
  lotId = (await pool.query('SELECT id FROM lots WHERE transaction_id = $1', [txId])).rows[0].id;
});
afterAll(() => pool.end());

async function inTx(work: (c: PoolClient) => Promise<unknown>, tenant?: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (tenant) await client.query(`SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${tenant}'`);
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

const asOwner = (sql: string, values: unknown[] = []) => inTx((c) => c.query(sql, values));
const asTenant = (tenant: string, sql: string, values: unknown[] = []) => inTx((c) => c.query(sql, values), tenant);

describe('database-enforced ledger rules', () => {
  it('refuses a transaction whose entries do not sum to zero per currency, at commit', async () => {
    const id = randomUUID();
    await expect(
      inTx(async (c) => {
        await c.query(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', $3, 'h')`, [id, coop, `raw-${id}`]);
        await c.query(`INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, 'CLOUD', 5)`, [id, coop, issued]);
        // Refused at the end of the statement that writes the entries (decision 0027), so never committed.
      }),
    ).rejects.toThrow(/unbalanced/);
    expect((await pool.query('SELECT count(*)::int AS n FROM transactions WHERE id = $1', [id])).rows[0].n).toBe(0);
  });

  it('refuses entries balanced in sum but not per currency', async () => {
    const usdAccount = (await pool.query(`SELECT id FROM accounts WHERE cooperative_id = $1 AND code = '1110'`, [coop])).rows[0].id;
    const id = randomUUID();
    await expect(
      inTx(async (c) => {
        await c.query(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', $3, 'h')`, [id, coop, `raw-${id}`]);
        await c.query(`INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, 'CLOUD', 5), ($1, $2, $4, 'USD', -5)`, [id, coop, issued, usdAccount]);
      }),
    ).rejects.toThrow(/unbalanced/);
  });

  it('refuses an entry whose currency is not its account currency', async () => {
    const id = randomUUID();
    await expect(
      inTx(async (c) => {
        await c.query(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', $3, 'h')`, [id, coop, `raw-${id}`]);
        await c.query(`INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, 'USD', 5), ($1, $2, $3, 'USD', -5)`, [id, coop, issued]);
      }),
    ).rejects.toThrow(/entry does not match its account/);
  });

  it('refuses an entry whose transaction does not exist in its cooperative', async () => {
    const otherIssued = (await pool.query(`SELECT id FROM accounts WHERE cooperative_id = $1 AND code = '1900'`, [other])).rows[0].id;
    const pair = 'INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, $4, 5), ($1, $2, $3, $4, -5)';
    // Another cooperative's transaction, with this cooperative's own account; then a transaction that does not exist.
    await expect(asOwner(pair, [txId, other, otherIssued, 'CLOUD'])).rejects.toMatchObject({ code: '23503', constraint: 'entries_transaction_id_cooperative_id_fkey' });
    await expect(asOwner(pair, [randomUUID(), coop, issued, 'CLOUD'])).rejects.toMatchObject({ code: '23503', constraint: 'entries_transaction_id_cooperative_id_fkey' });
  });

  it('refuses a transaction of a cooperative that does not exist, and deleting or re-keying parents', async () => {
    await expect(asOwner(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', 'x', 'h')`, [randomUUID(), randomUUID()])).rejects.toThrow(
      /does not exist/,
    );
    await expect(asOwner('DELETE FROM accounts WHERE id = $1', [wallet])).rejects.toThrow(/never deleted or re-keyed/);
    await expect(asOwner(`UPDATE accounts SET currency = 'USD' WHERE id = $1`, [wallet])).rejects.toThrow(/never deleted or re-keyed/);
    await expect(asOwner('DELETE FROM cooperatives WHERE id = $1', [coop])).rejects.toThrow(/never deleted or re-keyed/);
  });

  it('refuses updating or deleting transactions and entries', async () => {
    await expect(asOwner(`UPDATE transactions SET metadata = '{"x":1}' WHERE id = $1`, [txId])).rejects.toThrow(/append-only/);
    await expect(asOwner('DELETE FROM transactions WHERE id = $1', [txId])).rejects.toThrow(/append-only/);
    await expect(asOwner('UPDATE entries SET amount = amount * 2 WHERE transaction_id = $1', [txId])).rejects.toThrow(/append-only/);
    await expect(asOwner('DELETE FROM entries WHERE transaction_id = $1', [txId])).rejects.toThrow(/append-only/);
    await expect(asOwner('TRUNCATE entries')).rejects.toThrow(/append-only/);
  });

  it('refuses changing a balance other than through entries', async () => {
    await expect(asOwner('UPDATE account_balances SET balance = balance + 1 WHERE account_id = $1', [wallet])).rejects.toThrow(/only through ledger entries/);
    await expect(asTenant(coop, 'UPDATE account_balances SET balance = 0 WHERE account_id = $1', [wallet])).rejects.toThrow(/permission denied/);
  });

  it('keeps every lot part non-negative and the parts summing to the original', async () => {
    await expect(asOwner('UPDATE lots SET available = available - 1 WHERE id = $1', [lotId])).rejects.toThrow(/lot_parts_sum_to_original/);
    await expect(asOwner('UPDATE lots SET available = available - 1, reserved = reserved + 1, consumed = consumed - 1, original = original - 1 WHERE id = $1', [lotId])).rejects.toThrow(/lots_consumed_check/);
    await expect(asOwner('UPDATE lots SET available = -1, consumed = consumed + available + 1 WHERE id = $1', [lotId])).rejects.toThrow(/lots_available_check/);
  });

  it('never lets a member wallet go negative', async () => {
    const id = randomUUID();
    await expect(
      inTx(async (c) => {
        await c.query(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', $3, 'h')`, [id, coop, `raw-${id}`]);
        // Debit the wallet (liability) by more than it holds: its balance would be -1 CLOUD.
        await c.query(`INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, 'CLOUD', $5), ($1, $2, $4, 'CLOUD', -$5)`, [id, coop, wallet, issued, cloud(11)]);
      }),
    ).rejects.toThrow(/balance_not_negative/);
  });

  it('allows one lot per external source id', async () => {
    await expect(
      asOwner(
        `INSERT INTO lots (id, cooperative_id, account_id, member_id, source, source_id, category, transaction_id, original, available)
         VALUES ($1, $2, $3, $4, 'purchase', 'pi_c', 'paid', $5, 1, 1)`,
        [randomUUID(), coop, wallet, member, txId],
      ),
    ).rejects.toThrow(/lots_cooperative_id_source_source_id_key/);
  });

  it('allows one transaction per idempotency key within a cooperative, and the same key in another', async () => {
    await expect(asOwner(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'burn', 'm', 'h')`, [randomUUID(), coop])).rejects.toThrow(
      /transactions_cooperative_id_idempotency_key_key/,
    );
    const balancedElsewhere = ledger.mint(pool, { cooperativeId: other, memberId: (await pool.query('SELECT id FROM members WHERE cooperative_id = $1', [other])).rows[0].id, amount: 1n, source: 'grant', sourceId: 'g', idempotencyKey: 'm' });
    await expect(balancedElsewhere).resolves.toMatchObject({ replayed: false });
  });

  it("refuses, under the application role, a lot change list that names another cooperative's lot, and keeps none of it", async () => {
    const stranger = (await pool.query('SELECT id FROM members WHERE cooperative_id = $1 LIMIT 1', [other])).rows[0].id;
    const minted = await ledger.mint(pool, { cooperativeId: other, memberId: stranger, amount: cloud(5), source: 'grant', sourceId: 'adjust-own', idempotencyKey: 'adjust-own' });
    const ownLot = (await pool.query('SELECT id FROM lots WHERE transaction_id = $1', [minted.transaction.id])).rows[0].id;
    const amounts = async () => (await pool.query('SELECT id, available, consumed FROM lots WHERE id = ANY($1) ORDER BY id', [[ownLot, lotId]])).rows;
    const before = await amounts();
    const take = (id: string) => ({ id, og: 0, av: -1, rs: 0, cs: 1 });
    // Its own lot first and the other cooperative's after it: the one statement is refused whole.
    for (const changes of [[take(ownLot), take(lotId)], [take(lotId)], [take(ownLot), take(randomUUID())]]) {
      await expect(asTenant(other, 'SELECT adjust_lots($1::jsonb)', [JSON.stringify(changes)])).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/does not exist in this cooperative/) });
    }
    // A lot named twice would be changed once by the one UPDATE: refused, never half applied.
    await expect(asTenant(other, 'SELECT adjust_lots($1::jsonb)', [JSON.stringify([take(ownLot), take(ownLot)])])).rejects.toMatchObject({ code: '21000' });
    // Its own lot alone passes the function, and the ledger refuses it at commit: no entries back it.
    await expect(asTenant(other, 'SELECT adjust_lots($1::jsonb)', [JSON.stringify([take(ownLot)])])).rejects.toMatchObject({ constraint: 'wallet_matches_lots' });
    expect(await amounts()).toEqual(before);
  });

  describe('wallet matches its lots at commit', () => {
    const WALLETS = 70;
    let wallets: Array<{ wallet: string; lot: string }>;
    let tenant: string;

    beforeAll(async () => {
      // More wallets than the 64 the check used to remember (migration 1763802900000).
      tenant = await provisionCooperative(pool);
      wallets = [];
      for (let i = 0; i < WALLETS; i++) {
        const m = await addMember(pool, tenant);
        const { transaction } = await ledger.mint(pool, { cooperativeId: tenant, memberId: m, amount: cloud(1), source: 'grant', sourceId: `w-${i}`, idempotencyKey: `w-${i}` });
        const lot = (await pool.query('SELECT id FROM lots WHERE transaction_id = $1', [transaction.id])).rows[0].id;
        wallets.push({ wallet: transaction.entries.find((e) => e.accountCode === '2100')!.accountId, lot });
      }
    });

    const touchAll = (c: PoolClient, drifted: string) =>
      c.query('UPDATE lots SET available = available - (id = $2)::int, consumed = consumed + (id = $2)::int WHERE id = ANY($1)', [wallets.map((w) => w.lot), drifted]);

    it('catches one drifted wallet among many touched by one statement, wherever it is', async () => {
      for (const at of [0, 40, WALLETS - 1]) {
        await expect(inTx((c) => touchAll(c, wallets[at]!.lot), tenant)).rejects.toMatchObject({ constraint: 'wallet_matches_lots', message: expect.stringContaining(wallets[at]!.wallet) });
      }
      await expect(inTx((c) => touchAll(c, randomUUID()), tenant)).resolves.toBeUndefined();
    });

    it('catches a wallet drifted one statement at a time, and after an earlier check in the same transaction', async () => {
      await expect(
        inTx(async (c) => {
          for (const { lot } of wallets.slice(0, WALLETS - 1)) await c.query('UPDATE lots SET available = available WHERE id = $1', [lot]);
          await c.query('UPDATE lots SET available = available - 1, consumed = consumed + 1 WHERE id = $1', [wallets[WALLETS - 1]!.lot]);
        }, tenant),
      ).rejects.toMatchObject({ constraint: 'wallet_matches_lots' });
      await expect(
        inTx(async (c) => {
          await touchAll(c, randomUUID());
          await c.query('SET CONSTRAINTS ALL IMMEDIATE');
          await c.query('SET CONSTRAINTS ALL DEFERRED');
          await c.query('UPDATE lots SET available = available - 1, consumed = consumed + 1 WHERE id = $1', [wallets[0]!.lot]);
        }, tenant),
      ).rejects.toMatchObject({ constraint: 'wallet_matches_lots' });
    });

    it('catches entries that move credits between wallets without their lots', async () => {
      const id = randomUUID();
      await expect(
        inTx(async (c) => {
          await c.query(`INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ($1, $2, 'transfer', $3, 'h')`, [id, tenant, `raw-${id}`]);
          await c.query(`INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount) VALUES ($1, $2, $3, 'CLOUD', 1), ($1, $2, $4, 'CLOUD', -1)`, [
            id, tenant, wallets[1]!.wallet, wallets[2]!.wallet,
          ]);
        }),
      ).rejects.toMatchObject({ constraint: 'wallet_matches_lots' });
    });

    it('leaves the application role no way to the wallets queued for the check', async () => {
      await expect(asTenant(tenant, 'DELETE FROM wallets_to_check')).rejects.toThrow(/permission denied/);
      await expect(asTenant(tenant, 'SELECT 1 FROM wallets_to_check')).rejects.toThrow(/permission denied/);
      expect((await pool.query('SELECT count(*)::int AS n FROM wallets_to_check')).rows[0].n).toBe(0);
    });
  });

  it('keeps one cooperative out of another cooperative rows', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${other}'`);
      for (const table of ['members', 'accounts', 'transactions', 'entries', 'lots', 'account_balances', 'outbox', 'rate_cards']) {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table} WHERE cooperative_id = $1`, [coop]);
        expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
      }
      const own = await client.query('SELECT count(*)::int AS n FROM accounts');
      expect(own.rows[0].n).toBeGreaterThan(0);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    // Writing into another cooperative is refused by the policy's WITH CHECK.
    await expect(asTenant(other, `INSERT INTO members (id, cooperative_id, address) VALUES ($1, $2, '0x0000000000000000000000000000000000000001')`, [randomUUID(), coop])).rejects.toThrow(
      /row-level security/,
    );
    const touched = await inTxResult(other, 'UPDATE lots SET available = available WHERE id = $1', [lotId]);
    expect(touched).toBe(0);
    // Without a cooperative, the tenant role sees nothing at all.
    expect(await inTxResult(undefined, 'SELECT 1 FROM accounts', [], true)).toBe(0);
  });
});

async function inTxResult(tenant: string | undefined, sql: string, values: unknown[], roleOnly = false): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (tenant) await client.query(`SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${tenant}'`);
    else if (roleOnly) await client.query('SET LOCAL ROLE coop_app');
    const result = await client.query(sql, values);
    await client.query('ROLLBACK');
    return result.rowCount ?? 0;
  } finally {
    client.release();
  }
}

