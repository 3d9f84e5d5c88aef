import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createCooperativeActivities } from '../activities/cooperatives';
import { createApp } from '../api/app';
import { signToken } from '../api/auth/tokens';
import { createStripeClient } from '../clients/stripe';
import { loadConfig } from '../config/config';
import { projectRoot } from '../config/project-root';
import { createMember } from '../db/members';
import { enableAppLogin, migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { checksumAddress } from '../domain/identity';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { freePort } from '../scripts/ports';
import { printTable } from './table';

/**
 * `npm run bench`: resource discovery (GET /v1/resources/search) through the real API on a scratch
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
const log = (line: string) => process.stdout.write(`${line}\n`);

const THINGS = ['laser cutter', '3D printer', 'GPU server', 'meeting room', 'cargo bike', 'delivery van', 'sewing machine', 'pottery kiln', 'storage unit', 'recording studio', 'drill press', 'projector'];
const CITIES = ['Lyon', 'Lille', 'Nantes', 'Bordeaux', 'Marseille', 'Toulouse', 'Rennes', 'Grenoble', 'Montpellier', 'Strasbourg', 'Dijon', 'Brest', 'Nice', 'Tours', 'Angers', 'Metz', 'Caen', 'Rouen', 'Reims', 'Nancy'];
const TYPES = ['compute', 'storage', 'space', 'equipment', 'vehicle', 'skill', 'other'];
const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Next week's Tuesday at `hour` UTC, a slot of two hours. */
function slot(hour: number): { from: string; to: string } {
  const d = new Date(Date.now() + 7 * 86_400_000);
  d.setUTCDate(d.getUTCDate() + ((2 - d.getUTCDay() + 7) % 7));
  d.setUTCHours(hour, 0, 0, 0);
  return { from: d.toISOString(), to: new Date(d.getTime() + 2 * 3_600_000).toISOString() };
}

function searchQuery(kind: number): string {
  const q = new URLSearchParams();
  const word = pick(THINGS).split(' ')[1] ?? 'server';
  const { from, to } = slot(8 + Math.floor(Math.random() * 8));
  if (kind === 0) q.set('q', word);
  if (kind === 1) q.set('type', pick(TYPES)), q.set('location', pick(CITIES).slice(0, 3));
  if (kind === 2) q.set('q', word), q.set('from', from), q.set('to', to);
  if (kind === 3) q.set('q', word), q.set('type', pick(TYPES)), q.set('location', pick(CITIES)), q.set('from', from), q.set('to', to);
  return `/v1/resources/search?${q}`;
}

async function main(): Promise<void> {
  const stateDir = path.join(projectRoot, '.state', 'bench-resource-search');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    log(`Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${RESOURCES} resources in ${COOPERATIVES} cooperatives, ${CONCURRENCY} concurrent clients × ${PER_CLIENT} searches`);
    log('Starting a scratch embedded PostgreSQL');
    const pg = await startEmbeddedPostgres({ dataDir: path.join(stateDir, 'postgres'), port: await freePort(), database: 'bench', logFile: path.join(stateDir, 'postgres.log'), log });
    stops.push(pg.stop);
    await migrate(pg.url, 'up');
    const appPassword = 'bench-app-password';
    await enableAppLogin(pg.url, appPassword);
    const appUrl = Object.assign(new URL(pg.url), { username: 'coop_app', password: appPassword }).toString();
    // Rate limits are not what is measured: each client is its own member, with room for every request.
    const config = loadConfig({ ...process.env, LOG_LEVEL: 'error', DATABASE_URL: appUrl, RATE_LIMIT_MEMBER_QUERIES: '1000000' });
    const owner = createPool(pg.url, { max: 4 });
    stops.push(() => owner.end());

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
              CASE WHEN i % 10 < 7 THEN (SELECT range_agg(int4range(d * 1440 + 480, d * 1440 + 1080)) FROM generate_series(0, 4) d) ELSE int4multirange(int4range(0, 10080)) END,
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

    const appPool = createPool(config.database.url, { max: 20 });
    stops.push(() => appPool.end());
    const app = createApp({ config, pool: appPool, temporal: {} as never, logger: pino({ level: 'silent' }), stripe: createStripeClient(config.stripe) });
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    log('Warming up');
    await load((client, n) => ({ label: 'warm', path: searchQuery((client + n) % 4) }));
    log(`Searching: ${CONCURRENCY} clients at once`);
    const searches = await load((client, n) => ({ label: KINDS[(client + n) % 4]!, path: searchQuery((client + n) % 4) }));
    const all = [...searches.values()].flat();
    log('Reference: one resource by id, same concurrency');
    const reference = await load(() => ({ label: 'reference: GET /v1/resources/:id', path: `/v1/resources/${someResource}` }));

    const row = (label: string, values: number[]) => {
      const sorted = [...values].sort((x, y) => x - y);
      return [label, String(sorted.length), percentile(sorted, 50).toFixed(1), percentile(sorted, 95).toFixed(1), sorted.at(-1)!.toFixed(1)];
    };
    printTable(log, ['measure', 'n', 'p50 ms', 'p95 ms', 'max ms'], [
      ...KINDS.map((k) => row(k, searches.get(k)!)),
      row('search: all kinds', all),
      ...[...reference.entries()].map(([k, v]) => row(k, v)),
    ]);
    const p95 = percentile([...all].sort((x, y) => x - y), 95);
    log(`Search P95 ${p95.toFixed(1)} ms with ${RESOURCES} resources and ${CONCURRENCY} concurrent searches: ${p95 <= 200 ? 'within' : 'ABOVE'} the 200 ms aim`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
