import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import * as ledger from '../../db/ledger';
import { inline } from '../../db/inline';
import { createPool } from '../../db/pool';
import { read, readInTenant } from '../../db/transaction';
import { BusinessError } from '../../domain/errors';
import { addMember, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Reads sent with their transaction in one message (db/transaction.ts readInTenant): values inlined as
 * literals come back exactly as a parameter would bring them, whatever they hold, and the reads see only
 * their cooperative, on one snapshot.
 */
let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 4 });
});
afterAll(() => pool.end());

it('inlines every kind of value as the literal a parameter would have been', async () => {
  const hostile = `it's a "quote" \\ and a backslash\\'; DROP TABLE lots; --`;
  const when = new Date('2026-01-15T00:30:00.123Z');
  const text = 'SELECT $1::text AS s, $2::bigint AS b, $3::int AS n, $4::boolean AS t, $5::timestamptz AS d, $6::text[] AS a, $7::uuid[] AS empty, $8::text AS nothing';
  const values = [hostile, 9_007_199_254_740_993n, -42, false, when, [hostile, 'plain', ''], [], null];
  const { rows: direct } = await pool.query(text, values);
  const { rows: inlined } = await pool.query(inline(text, values));
  expect(inlined).toEqual(direct);
  expect(inlined[0]).toMatchObject({ s: hostile, b: 9_007_199_254_740_993n, n: -42, t: false, d: when, a: [hostile, 'plain', ''], empty: [], nothing: null });
  expect(() => inline('SELECT $2', [1])).toThrow(/no value for \$2/);
});

it('reads one cooperative only, in one transaction that leaves the connection clean, and a failing read fails them all', async () => {
  const coop = await provisionCooperative(pool);
  const other = await provisionCooperative(pool);
  const member = await addMember(pool, coop);
  await ledger.mint(pool, { cooperativeId: coop, memberId: member, amount: 5_000_000n, source: 'grant', sourceId: `g-${randomUUID()}`, idempotencyKey: 'g' });
  const lotsOf = (memberId: string) => read('test_lots_of', 'SELECT count(*)::int AS n FROM lots WHERE member_id = $1', [memberId], (rows: Array<{ n: number }>) => rows[0]!.n);
  const setting = read('test_setting', "SELECT current_setting('app.cooperative_id') AS c, current_setting('transaction_read_only') AS ro", [], (rows: Array<{ c: string; ro: string }>) => rows[0]!);
  expect(await readInTenant(pool, coop, [lotsOf(member), setting] as const)).toEqual([1, { c: coop, ro: 'on' }]);
  expect(await readInTenant(pool, other, [lotsOf(member)] as const)).toEqual([0]);

  const failing = read('test_failing', 'SELECT 1 / $1::int AS x', [0], (rows: unknown[]) => rows);
  await expect(readInTenant(pool, coop, [lotsOf(member), failing] as const)).rejects.toThrow(/division by zero/);
  // The pool's connections are back outside any transaction: a plain statement after it commits on its own.
  const { rows } = await pool.query("SELECT current_setting('app.cooperative_id', true) AS c, now() = statement_timestamp() AS fresh");
  expect(rows[0].fresh).toBe(true);
  await expect(readInTenant(pool, 'not-a-uuid', [lotsOf(member)] as const)).rejects.toBeInstanceOf(BusinessError);
});

it('prepares every registered statement once per connection, and a connection whose preparing failed is not reused', async () => {
  const single = createPool(testConfig().database.url, { max: 1 });
  try {
    const coop = await provisionCooperative(pool);
    const prepared = read('test_prepared', 'SELECT name FROM pg_prepared_statements ORDER BY name', [], (rows: Array<{ name: string }>) => rows.map((r) => r.name));
    const twice = read('test_twice', 'SELECT $1::int * 2 AS n', [21], (rows: Array<{ n: number }>) => rows[0]!.n);
    const backend = read('test_backend', 'SELECT pg_backend_pid() AS pid', [], (rows: Array<{ pid: number }>) => rows[0]!.pid);
    const [, names, first] = await readInTenant(single, coop, [twice, prepared, backend] as const);
    // Every registered statement, the ledger's hot ones included, is prepared on the connection's first transaction.
    expect(names).toEqual(expect.arrayContaining(['ledger_first_lots', 'ledger_lock_accounts', 'test_backend', 'test_prepared', 'test_twice']));
    // The same connection again: nothing prepared twice (PREPARE of an existing name would fail).
    expect(await readInTenant(single, coop, [twice, prepared, backend] as const)).toEqual([42, names, first]);
    // A statement that does not prepare fails the transaction, and its connection is discarded, not reused.
    const broken = read('test_broken', 'SELECT no_such_column FROM lots', [], (rows) => rows);
    await expect(readInTenant(single, coop, [twice, broken] as const)).rejects.toThrow(/no_such_column/);
    expect(single.totalCount).toBe(0);
  } finally {
    await single.end();
  }
});
