import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Pool } from 'pg';
import { createCooperativeActivities } from '../activities/cooperatives';
import { signToken } from '../api/auth/tokens';
import { createMember } from '../db/members';
import { searchStatement, type ResourceSearch } from '../db/resources';
import { checksumAddress } from '../domain/identity';
import { weeklyRanges, type ResourceType } from '../domain/network/resources';
import { recordFigures, type Figure } from './figures';
import { freePort } from '../scripts/ports';
import { log, machine, runBench, startApiProcess, startBenchStack } from './stack';
import { printTable } from './table';
import { percentile } from './percentile';

/**
 * `npm run bench`: resource discovery (GET /v1/resources/search) through the API, run as its own process
 * as `npm start` runs it (LOG_LEVEL=info), apart from the clients loading it, on a scratch
 * PostgreSQL holding RESOURCES shared resources across COOPERATIVES cooperatives, a third of them
 * booked, searched by CONCURRENCY clients at once with four kinds of query (words; type and location;
 * words and a free slot; all of them). Next to it, in the same run and at the same concurrency, the
 * cheapest read the API has on the same table: one resource by id. The aim is P95 ≤ 200 ms
 * with 10,000 resources and 50 concurrent searches.
 */
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_SEARCH_CONCURRENCY ?? 50);
const PER_CLIENT = Number(process.env.BENCH_SEARCHES_PER_CLIENT ?? 20);
const COOPERATIVES = 10;

const THINGS = ['laser cutter', '3D printer', 'GPU server', 'meeting room', 'cargo bike', 'delivery van', 'sewing machine', 'pottery kiln', 'storage unit', 'recording studio', 'drill press', 'projector'];
const CITIES = ['Lyon', 'Lille', 'Nantes', 'Bordeaux', 'Marseille', 'Toulouse', 'Rennes', 'Grenoble', 'Montpellier', 'Strasbourg', 'Dijon', 'Brest', 'Nice', 'Tours', 'Angers', 'Metz', 'Caen', 'Rouen', 'Reims', 'Nancy'];
const TYPES = ['compute', 'storage', 'space', 'equipment', 'vehicle', 'skill', 'other'];
const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;

/** Next week's Tuesday at `hour` UTC, a slot of two hours. */
function slot(hour: number): { from: string; to: string } {
  const d = new Date(Date.now() + 7 * 86_400_000);
  d.setUTCDate(d.getUTCDate() + ((2 - d.getUTCDay() + 7) % 7));
  d.setUTCHours(hour, 0, 0, 0);
  return { from: d.toISOString(), to: new Date(d.getTime() + 2 * 3_600_000).toISOString() };
}

/** One search of a kind, as the API's query string and as the search db/resources.ts runs for it. */
function searchOf(kind: number): { path: string; search: ResourceSearch } {
  const q = new URLSearchParams();
  const word = pick(THINGS).split(' ')[1] ?? 'server';
  const { from, to } = slot(8 + Math.floor(Math.random() * 8));
  const type = pick(TYPES) as ResourceType;
  const city = pick(CITIES);
  const free = { from: new Date(from), to: new Date(to), ranges: weeklyRanges(new Date(from), new Date(to)) };
  let search: ResourceSearch = { limit: 25 };
  if (kind === 0) q.set('q', word), (search = { ...search, text: word });
  if (kind === 1) q.set('type', type), q.set('location', city.slice(0, 3)), (search = { ...search, type, location: city.slice(0, 3) });
  if (kind === 2) q.set('q', word), q.set('from', from), q.set('to', to), (search = { ...search, text: word, available: free });
  if (kind === 3) q.set('q', word), q.set('type', type), q.set('location', city), q.set('from', from), q.set('to', to), (search = { ...search, text: word, type, location: city, available: free });
  return { path: `/v1/resources/search?${q}`, search };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the search statement, run as the API runs it (coop_app, network scope). */
async function explain(pool: Pool, search: ResourceSearch): Promise<string[]> {
  const { text, values } = searchStatement(search);
  const client = await pool.connect();
  try {
    await client.query("BEGIN; SET LOCAL ROLE coop_app; SET LOCAL app.scope = 'network'");
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
    return rows.map((r) => r['QUERY PLAN']);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

async function main(): Promise<void> {
  log(`Machine: ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${RESOURCES} resources in ${COOPERATIVES} cooperatives, ${CONCURRENCY} concurrent clients × ${PER_CLIENT} searches`);
  // Rate limits are not what is measured: each client is its own member, with room for every request.
  const stack = await startBenchStack('resource-search', { API_HOST: '127.0.0.1', API_PORT: String(await freePort()), RATE_LIMIT_MEMBER_QUERIES: '1000000' });
  const { config, owner, pool } = stack;
  try {
    log(`Seeding ${RESOURCES} resources and their bookings`);
    const activities = createCooperativeActivities(owner);
    const coops: string[] = [];
    for (let i = 0; i < COOPERATIVES; i++) {
      const coop = await activities.createCooperative({ id: randomUUID(), slug: `bench-${randomUUID().slice(0, 8)}`, name: `Bench ${i}` });
      await activities.openCooperativeLedger(coop.id);
      await activities.activateCooperative(coop.id);
      coops.push(coop.id);
    }
    const members: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const address = checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`);
      members.push((await createMember(owner, coops[0]!, { address })).member.id);
    }
    // Weekdays 08:00-18:00 for most, the whole week for some (minutes of the week, Monday 00:00 UTC = 0).
    await owner.query(
      `INSERT INTO resources (id, cooperative_id, type, title, description, location, availability, schedule, access_model, cost_model, cost_amount, created_by, idempotency_key, request_hash, created_at)
       SELECT gen_random_uuid(), ($2::uuid[])[1 + i % cardinality($2::uuid[])], ($3::text[])[1 + (i * 7919) % cardinality($3::text[])],
              initcap(($4::text[])[1 + (i * 31) % cardinality($4::text[])]) || ' #' || i,
              'A shared ' || ($4::text[])[1 + (i * 31) % cardinality($4::text[])] || ' for members of the network, booked by the hour',
              ($5::text[])[1 + (i * 13) % cardinality($5::text[])] || ', site ' || (i % 7),
              CASE WHEN i % 10 < 7 THEN (SELECT range_agg(week_minutes(d * 1440 + 480, d * 1440 + 1080)) FROM generate_series(0, 4) d) ELSE week_schedule(week_minutes(0, 10080)) END,
              '[]'::jsonb, 'open', 'per_hour', 1000000, 'bench', 'seed-' || i, 'seed', now() - i * interval '1 second'
         FROM generate_series(1, $1) i`,
      [RESOURCES, coops, TYPES, THINGS, CITIES],
    );
    // A third of them booked next week for a slot the searches ask about.
    await owner.query(
      `INSERT INTO bookings (id, resource_id, owner_cooperative_id, requester_cooperative_id, requester_member_id, period, status, cost, idempotency_key, request_hash, decided_at)
       SELECT gen_random_uuid(), r.id, r.cooperative_id, $1, $2, tstzrange($3::timestamptz + (row_number() OVER () % 8) * interval '1 hour', $3::timestamptz + (row_number() OVER () % 8 + 2) * interval '1 hour'),
              'confirmed', 0, 'seed-' || r.id, 'seed', now()
         FROM (SELECT id, cooperative_id FROM resources ORDER BY id LIMIT $4) r`,
      [coops[0], members[0], slot(8).from, Math.floor(RESOURCES / 3)],
    );
    await owner.query('ANALYZE resources; ANALYZE bookings');

    const base = await startApiProcess(stack, { env: { LOG_LEVEL: 'info' } });
    const tokens = await Promise.all(members.map((m) => signToken(config.jwt, { subject: m, role: 'member', cooperativeId: coops[0]! })));
    const someResource = (await owner.query<{ id: string }>('SELECT id FROM resources LIMIT 1')).rows[0]!.id;

    /** Runs CONCURRENCY clients, each PER_CLIENT requests one after another; latencies per label. */
    async function load(request: (client: number, n: number) => { label: string; path: string }): Promise<Map<string, number[]>> {
      const latencies = new Map<string, number[]>();
      let failures = 0;
      await Promise.all(
        tokens.map(async (token, client) => {
          for (let n = 0; n < PER_CLIENT; n++) {
            const { label, path: url } = request(client, n);
            const started = performance.now();
            const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
            await res.arrayBuffer();
            if (res.status !== 200) failures++;
            const list = latencies.get(label) ?? [];
            list.push(performance.now() - started);
            latencies.set(label, list);
          }
        }),
      );
      if (failures > 0) throw new Error(`${failures} requests failed`);
      return latencies;
    }

    const KINDS = ['search: words', 'search: type + location', 'search: words + free slot', 'search: all filters'];
    log('Plans of one search of each kind, as the API runs it (coop_app, network scope), before any load:');
    for (const [kind, label] of KINDS.entries()) {
      const plan = await explain(pool, searchOf(kind).search);
      log(`-- ${label}`);
      for (const line of plan) log(`   ${line}`);
    }
    log('Warming up');
    await load((client, n) => ({ label: 'warm', path: searchOf((client + n) % 4).path }));
    log(`Searching: ${CONCURRENCY} clients at once`);
    const searches = await load((client, n) => ({ label: KINDS[(client + n) % 4]!, path: searchOf((client + n) % 4).path }));
    const all = [...searches.values()].flat();
    log('Reference: one resource by id, same concurrency');
    const referenceLabel = 'reference: GET /v1/resources/:id';
    const reference = (await load(() => ({ label: referenceLabel, path: `/v1/resources/${someResource}` }))).get(referenceLabel)!;

    const sortedP = (values: number[], p: number) => percentile([...values].sort((x, y) => x - y), p);
    const row = (label: string, values: number[]) => [label, String(values.length), sortedP(values, 50).toFixed(1), sortedP(values, 95).toFixed(1), Math.max(...values).toFixed(1)];
    printTable(log, ['measure', 'n', 'p50 ms', 'p95 ms', 'max ms'], [...KINDS.map((k) => row(k, searches.get(k)!)), row('search: all kinds', all), row(referenceLabel, reference)]);
    const p95 = sortedP(all, 95);
    log(`Search P95 ${p95.toFixed(1)} ms with ${RESOURCES} resources and ${CONCURRENCY} concurrent searches: ${p95 <= 200 ? 'within' : 'ABOVE'} the 200 ms aim (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    const ref = { name: `${referenceLabel}, p95`, value: Number(sortedP(reference, 95).toFixed(1)) };
    const measured = `${RESOURCES} resources, ${CONCURRENCY} concurrent`;
    const figures: Figure[] = [
      { name: `resource search, all kinds (${measured})`, value: Number(p95.toFixed(1)), unit: 'ms p95', reference: ref, aim: 'p95 <= 200 ms' },
      ...KINDS.map((k) => ({ name: `${k} (${measured})`, value: Number(sortedP(searches.get(k)!, 95).toFixed(1)), unit: 'ms p95', reference: ref })),
    ];
    recordFigures('resource-search', figures);
  } finally {
    await stack.stop();
  }
}

runBench(main);
