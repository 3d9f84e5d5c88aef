import { randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createProposal } from '../../db/governance';
import * as ledger from '../../db/ledger';
import { createPool } from '../../db/pool';
import { recordStripeEvent } from '../../db/stripe-events';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Least privilege, as the application role itself logs in (DATABASE_APP_URL): not a superuser, not an
 * owner, no BYPASSRLS. Without a scope it sees nothing; in one cooperative's scope, nothing of another;
 * and it cannot change lots, balances or history except together with the ledger.
 */
let owner: Pool;
let app: Client;
let coop: string;
let other: string;
let wallet: string;
let lot: string;

beforeAll(async () => {
  owner = createPool(testConfig().database.url, { max: 4 });
  [coop, other] = await Promise.all([provisionCooperative(owner), provisionCooperative(owner)]);
  const [member, stranger] = await Promise.all([addMember(owner, coop), addMember(owner, other)]);
  for (const [c, m] of [[coop, member], [other, stranger]] as const) {
    const { transaction } = await ledger.mint(owner, { cooperativeId: c, memberId: m, amount: cloud(10), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `lp-${randomUUID()}` });
    if (c === coop) wallet = transaction.entries.find((e) => e.accountCode === '2100')!.accountId;
  }
  lot = (await owner.query('SELECT id FROM lots WHERE account_id = $1', [wallet])).rows[0].id;
  await createProposal(owner, { id: randomUUID(), originCooperativeId: other, stakeholders: [other], title: 'Theirs', description: '', proposer: 'x', action: undefined, idempotencyKey: randomUUID(), draft: false, closesAt: new Date(Date.now() + 60_000), rules: [] });
  await recordStripeEvent(owner, { id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', purchaseId: null, payload: {} });
  app = new Client({ connectionString: process.env.DATABASE_APP_URL });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await owner?.end();
});

/** Runs statements as the application role in one transaction (optionally in a scope), and rolls back unless asked to commit. */
async function asApp(statements: string[], scope: { cooperative?: string; network?: boolean } = {}, commit = false): Promise<unknown[][]> {
  await app.query('BEGIN');
  try {
    if (scope.cooperative) await app.query(`SET LOCAL app.cooperative_id = '${scope.cooperative}'`);
    if (scope.network) await app.query("SET LOCAL app.scope = 'network'");
    const results: unknown[][] = [];
    for (const sql of statements) results.push((await app.query(sql)).rows);
    await app.query(commit ? 'COMMIT' : 'ROLLBACK');
    return results;
  } catch (err) {
    await app.query('ROLLBACK');
    throw err;
  }
}

async function tenantTables(): Promise<string[]> {
  const { rows } = await owner.query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('pgmigrations', 'rate_limit_hits') ORDER BY 1`);
  return rows.map((r) => r.relname as string);
}

describe('least privilege in PostgreSQL', () => {
  it('logs in as a role that is neither superuser nor owner and cannot bypass row-level security', async () => {
    const [roles, owned] = await asApp([
      'SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
      "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    ]);
    expect(roles).toEqual([{ name: 'coop_app', rolsuper: false, rolbypassrls: false }]);
    expect(owned).toEqual([{ n: 0 }]);
  });

  it('has row-level security on every table that holds cooperative data', async () => {
    const { rows } = await owner.query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                          WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity AND c.relname NOT IN ('pgmigrations', 'rate_limit_hits')`);
    expect(rows).toEqual([]);
  });

  it('sees nothing without a scope, and nothing of another cooperative inside one', async () => {
    // Shared resources are public to the whole network by design (any role may search them, decision
    // 0026): readable without a scope, but written only in the network scope.
    const networkPublic = new Set(['resources']);
    for (const table of networkPublic) {
      const readable = await asApp([`SELECT count(*)::int AS n FROM ${table}`]);
      expect(readable).toHaveLength(1);
      // Refused by privilege, or no row in reach.
      const written = await asApp([`UPDATE ${table} SET description = description RETURNING id`]).catch((err: { code?: string }) => err.code);
      expect({ table, written }).toEqual({ table, written: typeof written === 'string' ? '42501' : [[]] });
      const deleted = await asApp([`DELETE FROM ${table} RETURNING id`]).catch((err: { code?: string }) => err.code);
      expect({ table, deleted }).toEqual({ table, deleted: typeof deleted === 'string' ? '42501' : [[]] });
    }
    for (const table of (await tenantTables()).filter((t) => !networkPublic.has(t))) {
      // Either no right to read the table at all, or no row visible.
      const result = await asApp([`SELECT count(*)::int AS n FROM ${table}`]).catch((err: { code?: string }) => err.code);
      expect({ table, seen: typeof result === 'string' || result === undefined ? result : result[0] }).toEqual({ table, seen: typeof result === 'string' ? '42501' : [{ n: 0 }] });
    }
    const scoped = await asApp(
      ['lots', 'transactions', 'entries', 'members', 'accounts', 'outbox', 'delegations', 'credit_purchases', 'revenue_rules', 'governance_settings'].map(
        (t) => `SELECT count(*)::int AS n FROM ${t} WHERE cooperative_id = '${other}'`,
      ),
      { cooperative: coop },
    );
    expect(scoped).toEqual(Array(10).fill([{ n: 0 }]));
    const own = await asApp(['SELECT count(*)::int AS n FROM proposals', 'SELECT count(*)::int AS n FROM stripe_events', 'SELECT count(*)::int AS n FROM lots'], { cooperative: coop });
    expect(own).toEqual([[{ n: 0 }], [{ n: 0 }], [{ n: 1 }]]);
    // The network scope reaches the records that span cooperatives, and still no ledger row.
    const network = await asApp(['SELECT count(*)::int AS n FROM proposals', 'SELECT count(*)::int AS n FROM lots'], { network: true });
    expect((network[0]![0] as { n: number }).n).toBeGreaterThan(0);
    expect(network[1]).toEqual([{ n: 0 }]);
  });

  it('refuses changes to lots, balances and history that do not go with the ledger', async () => {
    const refused = async (statements: string[]) => {
      try {
        await asApp(statements, { cooperative: coop }, true);
        return 'committed';
      } catch (err) {
        return (err as { constraint?: string; code?: string }).constraint ?? (err as { code?: string }).code;
      }
    };
    expect(await refused([`UPDATE lots SET available = available - 1, consumed = consumed + 1 WHERE id = '${lot}'`])).toBe('wallet_matches_lots');
    expect(await refused([`UPDATE lots SET available = available - 1, reserved = reserved + 1 WHERE id = '${lot}'`])).toBe('lot_reserved_by_open_holds');
    expect(await refused([`DELETE FROM lots WHERE id = '${lot}'`])).toBe('42501');
    expect(await refused([`UPDATE account_balances SET balance = balance + 1 WHERE account_id = '${wallet}'`])).toBe('42501');
    expect(await refused([`UPDATE transactions SET metadata = '{}' WHERE cooperative_id = '${coop}'`])).toBe('42501');
    expect(await refused([`DELETE FROM entries WHERE cooperative_id = '${coop}'`])).toBe('42501');
    // A transaction without entries cannot carry credits into a wallet either.
    const tx = randomUUID();
    const member = (await owner.query('SELECT member_id FROM accounts WHERE id = $1', [wallet])).rows[0].member_id;
    expect(
      await refused([
        `INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash) VALUES ('${tx}', '${coop}', 'mint', 'forged-${tx}', 'x')`,
        `INSERT INTO lots (id, cooperative_id, account_id, member_id, source, source_id, category, transaction_id, original, available)
           VALUES ('${randomUUID()}', '${coop}', '${wallet}', '${member}', 'grant', 'forged-${tx}', 'paid', '${tx}', 1000000, 1000000)`,
      ]),
    ).toBe('wallet_matches_lots');
    expect((await ledger.integrityReport(owner, coop)).findings).toEqual([]);
  });
});
