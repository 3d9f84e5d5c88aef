import type { Pool, PoolClient } from 'pg';
import { seedHistory } from '../../bench/seed-history';
import * as ledger from '../../db/ledger';
import { createPool } from '../../db/pool';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Every statement the hot ledger operations run under the application role, trigger and function bodies
 * included, on a cooperative with a long history, must reach rows through a selective index: no
 * sequential scan of a ledger table, and no index scan on the cooperative alone (row-level security's
 * condition), which would cost in proportion to the cooperative's history. The plans are the ones
 * actually executed, logged by auto_explain, with generic plans forced as a connection caches them.
 */
const HISTORY = 100_000;
// Tables that grow with history (accounts grow with members, and are looked up once per process).
const LEDGER_TABLES = new Set(['transactions', 'entries', 'lots', 'lot_movements', 'holds', 'hold_lots', 'account_balances', 'outbox']);

interface PlanNode {
  'Node Type': string;
  Operation?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

// Columns that sort rows into a few kinds; a literal compared with any other column is a key.
const KINDS = new Set(['source', 'status', 'kind', 'category', 'type']);

/**
 * Whether an index condition narrows by nothing but the tenant's condition and constants, such as
 * `((cooperative_id = app_cooperative_id()) AND (source = 'transfer_in'::text))`: every row of the
 * cooperative of that kind, however many its history holds. A selective condition compares some column
 * with a parameter or another row's value.
 */
function byCooperativeOnly(cond: string): boolean {
  const conjuncts = cond.replace(/^\(|\)$/g, '').split(' AND ').map((c) => c.replace(/^\(+|\)+$/g, ''));
  if (!conjuncts.some((c) => c.startsWith('cooperative_id = '))) return false;
  return conjuncts.every((c) => c.startsWith('cooperative_id = ') || KINDS.has(c.slice(0, c.indexOf(' = '))));
}

/** The scans of ledger tables in a plan that are not selective. */
function unselectiveScans(node: PlanNode, found: string[] = []): string[] {
  const relation = node['Relation Name'];
  if (relation && LEDGER_TABLES.has(relation)) {
    if (node['Node Type'] === 'Seq Scan') found.push(`Seq Scan on ${relation}`);
    const cond = node['Index Cond'];
    if (cond !== undefined && byCooperativeOnly(cond)) found.push(`${node['Node Type']} on ${relation} using ${node['Index Name']} by cooperative only: ${cond}`);
  }
  for (const child of node.Plans ?? []) unselectiveScans(child, found);
  return found;
}

/** The ledger tables with an index led by cooperative_id, which the tenant condition could use. */
const TABLES_WITH_TENANT_INDEXES = ['lots', 'transactions', 'holds'];

let owner: Pool;
let explained: Pool;
const plans: Array<{ query: string; plan: PlanNode }> = [];

beforeAll(async () => {
  owner = createPool(testConfig().database.ownerUrl, { max: 2 });
  // The owner may LOAD auto_explain; the ledger's own transactions still switch to coop_app.
  explained = createPool(testConfig().database.ownerUrl, { max: 2 });
  explained.on('connect', (client: PoolClient) => {
    client.on('notice', (notice) => {
      const text = notice.message ?? '';
      const at = text.indexOf('{');
      if (!text.startsWith('duration:') || at < 0) return;
      const logged = JSON.parse(text.slice(at)) as { 'Query Text': string; Plan: PlanNode };
      plans.push({ query: logged['Query Text'], plan: logged.Plan });
    });
    void client.query(`LOAD 'auto_explain';
      SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_format = json;
      SET auto_explain.log_level = notice; SET plan_cache_mode = force_generic_plan`);
  });
});
afterAll(async () => {
  await owner.query(TABLES_WITH_TENANT_INDEXES.map((t) => `ALTER TABLE ${t} ALTER COLUMN cooperative_id RESET (n_distinct); ANALYZE ${t}`).join(';'));
  await explained.end();
  await owner.end();
});

describe('ledger plans on a cooperative with a long history', () => {
  it('tell an index condition on the cooperative and constants from a selective one', () => {
    expect(byCooperativeOnly('(cooperative_id = app_cooperative_id())')).toBe(true);
    expect(byCooperativeOnly("((cooperative_id = app_cooperative_id()) AND (source = 'transfer_in'::text))")).toBe(true);
    expect(byCooperativeOnly("((cooperative_id = app_cooperative_id()) AND (source = 'transfer_in'::text) AND (source_id = $2))")).toBe(false);
    expect(byCooperativeOnly("((cooperative_id = '78f613e8-a30d-4b26-82d8-483b5a2e1fcf'::uuid) AND (idempotency_key = 'h-0'::text))")).toBe(false);
    expect(byCooperativeOnly('(account_id = $1)')).toBe(false);
  });

  it('reach every row through a selective index', async () => {
    const coop = await provisionCooperative(owner);
    const members = await Promise.all(Array.from({ length: 8 }, () => addMember(owner, coop)));
    for (const m of members) await ledger.mint(owner, { cooperativeId: coop, memberId: m, amount: cloud(1000), source: 'purchase', sourceId: `pi-${m}`, idempotencyKey: `mint-${m}` });
    await seedHistory(owner, coop, HISTORY);
    // Holds have a history too: without one, hold_lots is a few pages, which a sequential scan rightly reads.
    await Promise.all(
      members.map(async (m, k) => {
        for (let i = 0; i < 250; i++) {
          const { hold } = await ledger.reserveHold(owner, { cooperativeId: coop, memberId: m, amount: cloud(0.01), ttlSeconds: 60, idempotencyKey: `past-hold-${k}-${i}` });
          await ledger.resolveHold(owner, coop, hold.id, { kind: 'release' });
        }
      }),
    );
    await owner.query('ANALYZE holds; ANALYZE hold_lots');
    // Statistics of a network of many cooperatives, where each looks small to the planner: then the tenant
    // condition of row-level security ties with a key at one row, and a plan may take the cooperative's index.
    await owner.query(TABLES_WITH_TENANT_INDEXES.map((t) => `ALTER TABLE ${t} ALTER COLUMN cooperative_id SET (n_distinct = -1); ANALYZE ${t}`).join(';'));
    const [a, b, c] = members as [string, string, string];

    // Each operation several times: a connection switches to a generic plan after five executions.
    for (let i = 0; i < 7; i++) {
      await ledger.transfer(explained, { cooperativeId: coop, fromMemberId: i % 2 ? a : b, toMemberId: i % 2 ? b : a, amount: cloud(1), idempotencyKey: `t-${i}` });
      await ledger.redeemUsage(explained, { cooperativeId: coop, memberId: c, primitive: 'transfer_gb', quantity: 1_000n, idempotencyKey: `u-${i}` });
      const { hold } = await ledger.reserveHold(explained, { cooperativeId: coop, memberId: c, amount: cloud(2), ttlSeconds: 60, idempotencyKey: `h-${i}` });
      await ledger.resolveHold(explained, coop, hold.id, i % 2 ? { kind: 'finalize', amount: cloud(1) } : { kind: 'release' });
      await ledger.mint(explained, { cooperativeId: coop, memberId: a, amount: cloud(1), source: 'purchase', sourceId: `pi-more-${i}`, idempotencyKey: `m-${i}` });
      await ledger.memberBalance(explained, coop, b);
    }

    expect(plans.length).toBeGreaterThan(100);
    // A lot update reaches lots by primary-key probes only (one per changed lot, driven by the change list),
    // never by a scan the planner may turn into a walk over the cooperative's lots.
    const lotUpdates = plans.flatMap((p) => nodes(p.plan)).filter((n) => n['Node Type'] === 'ModifyTable' && n.Operation === 'Update' && n['Relation Name'] === 'lots');
    expect(lotUpdates.length).toBeGreaterThan(0);
    const lotReads = lotUpdates.flatMap((n) => (n.Plans ?? []).flatMap(nodes)).filter((n) => n['Relation Name'] === 'lots');
    expect(new Set(lotReads.map((n) => `${n['Node Type']} using ${n['Index Name']} by ${n['Index Cond']?.startsWith('(id = ') ? 'id' : n['Index Cond']}`))).toEqual(
      new Set(['Index Scan using lots_pkey by id']),
    );
    const bad = plans.flatMap((p) => unselectiveScans(p.plan).map((scan) => `${scan}: ${p.query.replace(/\s+/g, ' ').slice(0, 160)}`));
    expect([...new Set(bad)]).toEqual([]);
    expect((await ledger.integrityReport(owner, coop)).findings).toEqual([]);
  }, 240_000);
});
