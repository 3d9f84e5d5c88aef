import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { RECORDED_PERIOD_STATUSES } from '../../domain/accounting-periods';
import { ACCOUNT_OWNER_TYPES, ACCOUNT_TYPES } from '../../domain/chart-of-accounts';
import { COOPERATIVE_STATUSES } from '../../domain/cooperative';
import { PURCHASE_STATUSES } from '../../domain/credit-purchase';
import { DEAD_LETTER_HISTORY_ACTIONS, DEAD_LETTER_OPERATION_TYPES, DEAD_LETTER_STATUSES } from '../../domain/dead-letter';
import { PROPOSAL_STATUSES } from '../../domain/governance/proposal';
import { RULE_STATUSES } from '../../domain/governance/revenue-rule';
import { GOVERNANCE_MODELS, THRESHOLD_COMPARISONS } from '../../domain/governance/settings';
import { VOTE_CHOICES } from '../../domain/governance/delegation';
import { EVENT_TYPES } from '../../domain/events';
import { HOLD_STATUSES } from '../../domain/hold';
import { MEMBER_STATUSES } from '../../domain/member';
import { MEMBER_CLAIM_KEYS } from '../../domain/federation';
import { RECONCILIATION_KINDS, RECONCILIATION_STATUSES } from '../../domain/reconciliation';
import { LOT_SOURCES, TRANSACTION_TYPES } from '../../domain/ledger-types';
import { LOT_CATEGORIES } from '../../domain/lots';
import { CURRENCIES } from '../../domain/money';
import { PRIMITIVES } from '../../domain/rate-card';
import { STAKING_POSITION_STATUSES, STAKING_RELEASE_KINDS } from '../../domain/staking';
import { PRICE_AVERAGING, PRICE_SOURCE_TYPES, SAMPLING_INTERVALS, STREAM_ACCOUNTS, STREAM_DENOMINATIONS, STREAM_DIRECTIONS, STREAM_STATUSES } from '../../domain/streams';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_ENDPOINT_STATUSES } from '../../domain/webhooks';
import { CORRECTION_STATUSES } from '../../domain/corrections';
import { ECONOMIC_EVENT_TYPES } from '../../domain/network/economic-events';
import { ACCESS_MODELS, BOOKING_STATUSES, COST_MODELS, RESOURCE_TYPES } from '../../domain/network/resources';
import { testConfig } from '../harness/stack';

/**
 * Each closed list is written once, in domain/. The database repeats some of them as CHECK (… IN (…))
 * constraints (or could as enum types); this reads them back from the migrated database's catalog and
 * holds them to the TypeScript list each column is mapped to. A list constraint on a column the map
 * does not name fails too, so a new list cannot slip in unchecked, and so does a mapped column the
 * database no longer constrains, so the map cannot go stale. (PostgreSQL writes a one-value IN as
 * `col = 'x'`, indistinguishable from any other comparison: such a check on a mapped column is held to
 * the list, but on an unmapped column it is not seen as a list.)
 */
const MAPPED: Record<string, readonly string[]> = {
  'cooperatives.status': COOPERATIVE_STATUSES,
  'accounts.currency': CURRENCIES,
  'accounts.type': ACCOUNT_TYPES,
  'accounts.owner_type': ACCOUNT_OWNER_TYPES,
  'transactions.type': TRANSACTION_TYPES,
  'lots.source': LOT_SOURCES,
  'lots.category': LOT_CATEGORIES,
  'holds.status': HOLD_STATUSES,
  'members.status': MEMBER_STATUSES,
  'identity_providers.member_claim_key': MEMBER_CLAIM_KEYS,
  'staking_positions.status': STAKING_POSITION_STATUSES,
  'staking_positions.release_kind': STAKING_RELEASE_KINDS,
  'corrections.status': CORRECTION_STATUSES,
  'rate_card_rates.primitive': PRIMITIVES,
  'credit_purchases.status': PURCHASE_STATUSES,
  'revenue_rules.status': RULE_STATUSES,
  'governance_settings.model': GOVERNANCE_MODELS,
  'governance_settings.quorum_cmp': THRESHOLD_COMPARISONS,
  'governance_settings.majority_cmp': THRESHOLD_COMPARISONS,
  'governance_settings.supermajority_cmp': THRESHOLD_COMPARISONS,
  'proposals.status': PROPOSAL_STATUSES,
  'proposal_stakeholders.model': GOVERNANCE_MODELS,
  'proposal_votes.choice': VOTE_CHOICES,
  'outbox.event_type': EVENT_TYPES,
  'reconciliation_runs.kind': RECONCILIATION_KINDS,
  'reconciliation_runs.status': RECONCILIATION_STATUSES,
  'dead_letter_items.operation_type': DEAD_LETTER_OPERATION_TYPES,
  'dead_letter_items.status': DEAD_LETTER_STATUSES,
  'dead_letter_actions.action': DEAD_LETTER_HISTORY_ACTIONS,
  'dead_letter_actions.from_status': DEAD_LETTER_STATUSES,
  'dead_letter_actions.to_status': DEAD_LETTER_STATUSES,
  'webhook_endpoints.status': WEBHOOK_ENDPOINT_STATUSES,
  'webhook_deliveries.status': WEBHOOK_DELIVERY_STATUSES,
  'streams.direction': STREAM_DIRECTIONS,
  'streams.account': STREAM_ACCOUNTS,
  'streams.sampling_interval': SAMPLING_INTERVALS,
  'streams.price_averaging': PRICE_AVERAGING,
  'streams.denomination': STREAM_DENOMINATIONS,
  'streams.status': STREAM_STATUSES,
  'stream_samples.price_source': PRICE_SOURCE_TYPES,
  'stream_samples.price_averaging': PRICE_AVERAGING,
  'accounting_periods.status': RECORDED_PERIOD_STATUSES,
  'economic_events.type': ECONOMIC_EVENT_TYPES,
  'economic_events.currency': CURRENCIES,
  'resources.type': RESOURCE_TYPES,
  'resources.access_model': ACCESS_MODELS,
  'resources.cost_model': COST_MODELS,
  'bookings.status': BOOKING_STATUSES,
};

interface ListConstraint {
  /** `table.column`, or `domain:<name>` for a CHECK on a domain type. */
  key: string;
  source: string;
  /** `allowed` for = ANY (IN), `refused` for <> ALL (NOT IN). */
  sense: 'allowed' | 'refused';
  values: string[];
}

interface LiteralUse {
  key: string;
  source: string;
  value: string;
}

const IDENT = String.raw`"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*`;
const LITERAL = String.raw`'(?:[^']|'')*'`;
const unquoteIdent = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
const literalsIn = (text: string) => [...text.matchAll(new RegExp(LITERAL, 'g'))].map((m) => m[0].slice(1, -1).replace(/''/g, "'"));

/**
 * `col = ANY (ARRAY['a'::text, …])` (how PostgreSQL renders `col IN ('a', …)`) and `col <> ALL (…)`
 * (NOT IN), with the casts PostgreSQL adds for varchar columns: `(col)::text = ANY ((ARRAY[…])::text[])`.
 */
const LIST = new RegExp(String.raw`\(*(${IDENT})\)*(?:::[a-z ]+)?\s*(=\s*ANY|<>\s*ALL)\s*\(+ARRAY\[((?:[^\]']|${LITERAL})*)\]`, 'g');
/** `col = 'x'` / `col <> 'x'`: a single value, as in `CHECK ((status = 'open') = (resolved_at IS NULL))` or a partial index. */
const SINGLE = new RegExp(String.raw`\(*(${IDENT})\)*(?:::[a-z ]+)?\s*(?:=|<>)\s*(${LITERAL})`, 'g');

function listsIn(owner: string, source: string, expression: string): ListConstraint[] {
  return [...expression.matchAll(LIST)].map((m) => ({
    key: owner.startsWith('domain:') ? owner : `${owner}.${unquoteIdent(m[1]!)}`,
    source,
    sense: /^=/.test(m[2]!) ? 'allowed' : 'refused',
    values: literalsIn(m[3]!),
  }));
}

function literalsUsed(table: string, source: string, expression: string): LiteralUse[] {
  return [...expression.matchAll(SINGLE)].map((m) => ({ key: `${table}.${unquoteIdent(m[1]!)}`, source, value: literalsIn(m[2]!)[0]! }));
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

async function readCatalog(db: Pick<Pool, 'query'>): Promise<{ lists: ListConstraint[]; literals: LiteralUse[] }> {
  // CHECK constraints of the public schema's tables and domains.
  const checks = await db.query<{ owner: string; name: string; def: string }>(`
    SELECT CASE WHEN c.conrelid <> 0 THEN r.relname ELSE 'domain:' || t.typname END AS owner, c.conname AS name, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c
      LEFT JOIN pg_class r ON r.oid = c.conrelid
      LEFT JOIN pg_type t ON t.oid = c.contypid
      JOIN pg_namespace n ON n.oid = COALESCE(r.relnamespace, t.typnamespace)
     WHERE c.contype = 'c' AND n.nspname = 'public'`);
  // Enum-typed columns (none today): their labels are the allowed values.
  const enums = await db.query<{ table: string; column: string; labels: string[] }>(`
    SELECT c.relname AS table, a.attname AS column, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid OR t.typarray = a.atttypid
      JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     GROUP BY c.relname, a.attname`);
  // Other places that name list values: partial indexes (one active rule per cooperative), defaults and generated columns.
  const uses = await db.query<{ table: string; what: string; expression: string }>(`
    SELECT r.relname AS table, 'index ' || i.relname AS what, pg_get_expr(x.indpred, x.indrelid) AS expression
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class r ON r.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE n.nspname = 'public' AND x.indpred IS NOT NULL
    UNION ALL
    SELECT r.relname, 'default or generated ' || a.attname, pg_get_expr(d.adbin, d.adrelid)
      FROM pg_attrdef d
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      JOIN pg_class r ON r.oid = d.adrelid
      JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE n.nspname = 'public'`);

  return {
    lists: [
      ...checks.rows.flatMap((c) => listsIn(c.owner, `${c.owner} ${c.name}: ${c.def}`, c.def)),
      ...enums.rows.map((e): ListConstraint => ({ key: `${e.table}.${e.column}`, source: `enum type of ${e.table}.${e.column}`, sense: 'allowed', values: e.labels })),
    ],
    literals: [
      ...checks.rows.filter((c) => !c.owner.startsWith('domain:')).flatMap((c) => literalsUsed(c.owner, `${c.owner} ${c.name}: ${c.def}`, c.def)),
      ...uses.rows.flatMap((u) => {
        const source = `${u.table} ${u.what}: ${u.expression}`;
        // A list here is a subset (CASE WHEN type IN (...)), so each of its values counts as a single use.
        const inLists = listsIn(u.table, source, u.expression).flatMap((l) => l.values.map((value) => ({ key: l.key, source, value })));
        return [...literalsUsed(u.table, source, u.expression), ...inLists];
      }),
    ],
  };
}

let pool: Pool;
let lists: ListConstraint[];
let literals: LiteralUse[];

beforeAll(async () => {
  pool = createPool(testConfig().database.url, { max: 2 });
  ({ lists, literals } = await readCatalog(pool));
});
afterAll(() => pool.end());

describe('closed lists: the database agrees with domain/', () => {
  it('reads the list constraints it expects (the parser still understands the catalog)', () => {
    expect(lists.length).toBeGreaterThanOrEqual(Object.keys(MAPPED).length);
    expect(lists.find((l) => l.key === 'cooperatives.status')?.values).toEqual(['provisioning', 'active']);
  });

  it('sees a new list, in any of the forms PostgreSQL writes it, as unmapped (probe table, rolled back)', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`CREATE DOMAIN closed_lists_probe_kind AS text CHECK (VALUE IN ('x', 'y'))`);
      await client.query(`CREATE TABLE closed_lists_probe (
        status varchar(20) CHECK (status IN ('on', 'off')),
        mode text CHECK (mode NOT IN ('bad', 'worse')),
        "Odd Name" text CHECK ("Odd Name" IN ('it''s', 'a]b')),
        kind closed_lists_probe_kind)`);
      const probe = (await readCatalog(client)).lists.filter((l) => l.key.includes('closed_lists_probe')).map(({ key, sense, values }) => ({ key, sense, values }));
      expect(probe).toEqual(
        expect.arrayContaining([
          { key: 'closed_lists_probe.status', sense: 'allowed', values: ['on', 'off'] },
          { key: 'closed_lists_probe.mode', sense: 'refused', values: ['bad', 'worse'] },
          { key: 'closed_lists_probe.Odd Name', sense: 'allowed', values: ["it's", 'a]b'] },
          { key: 'domain:closed_lists_probe_kind', sense: 'allowed', values: ['x', 'y'] },
        ]),
      );
      expect(probe).toHaveLength(4);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('every list constraint in the database is mapped to a domain list', () => {
    const unmapped = lists.filter((l) => !(l.key in MAPPED)).map((l) => l.source);
    expect(unmapped).toEqual([]);
  });

  it('every mapped column is still constrained by the database', () => {
    const found = new Set(lists.map((l) => l.key));
    expect(Object.keys(MAPPED).filter((key) => !found.has(key))).toEqual([]);
  });

  it.each(Object.entries(MAPPED))('%s allows exactly the domain list', (key, list) => {
    const mine = lists.filter((l) => l.key === key);
    for (const l of mine) {
      expect({ source: l.source, sense: l.sense }).toEqual({ source: l.source, sense: 'allowed' });
      expect({ source: l.source, values: sorted(l.values) }).toEqual({ source: l.source, values: sorted(list) });
    }
  });

  it('single values the database compares a mapped column with are in its domain list', () => {
    const strays = literals.filter((u) => u.key in MAPPED && !MAPPED[u.key]!.includes(u.value)).map((u) => `${u.value} in ${u.source}`);
    expect(strays).toEqual([]);
    // Not vacuous: the status/type guards are read.
    expect(literals.some((u) => u.key === 'holds.status' && u.value === 'open')).toBe(true);
  });
});
