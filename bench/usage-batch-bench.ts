import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import type { Pool } from 'pg';
import { createApp } from '../api/app';
import { signToken } from '../api/auth/tokens';
import { createStripeClient } from '../clients/stripe';
import { loadConfig } from '../config/config';
import { projectRoot } from '../config/project-root';
import * as ledger from '../db/ledger';
import { enableAppLogin, migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { MAX_USAGE_BATCH, PRIMITIVES } from '../domain/rate-card';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { freePort } from '../scripts/ports';
import { recordFigures, type Figure } from './figures';
import { log, machine, runBench } from './stack';
import { fundedCooperative } from './funded-cooperative';
import { printTable } from './table';
import { percentile } from './percentile';

/**
 * `npm run bench` (or `npm run bench:usage` alone): usage redemptions ingested in batches of 1,000
 * (issue 14 point 3, aim ≥ 25,000 redemptions/s), through the ledger (db/ledger redeemUsageBatch) and
 * through the API (POST /v1/cooperatives/:id/usage/batch, one API in this process), at 1 and 2
 * concurrent clients, each for its own members, next to pgbench on the same server with the same
 * clients: transactions of one plain INSERT … SELECT of 1,000 rows shaped like a redemption (uuid key,
 * account, amount, unique text key, JSON payload, timestamp), what PostgreSQL itself does for the same
 * count of rows without COPY. A redemption writes more than that row (its transaction, four or five
 * entries, a lot movement, an outbox event, its lot and the balances), so the ratio says what the
 * ledger's rules cost per record. Every run is checked: the ledger's integrity report must be clean.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const MEMBERS = Number(process.env.BENCH_USAGE_MEMBERS ?? 1_000);
const CLIENTS = [1, 2];
const BATCH = MAX_USAGE_BATCH;

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}


/** Runs `batch` from `clients` concurrent loops for the window after a warm-up; each call redeems BATCH records. */
async function measure(clients: number, batch: (client: number, n: number) => Promise<number>): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  let records = 0;
  const warmupEnd = performance.now() + WARMUP_SECONDS * 1000;
  const end = warmupEnd + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let n = 0; ; n++) {
        const t0 = performance.now();
        if (t0 >= end) break;
        const failed = await batch(c, n);
        const t1 = performance.now();
        if (t0 >= warmupEnd) {
          latencies.push(t1 - t0);
          records += BATCH;
          errors += failed;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: (records - errors) / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** pgbench with a custom script of one INSERT … SELECT of BATCH redemption-like rows per transaction: rows/s and latency per transaction. */
function pgbenchInserts(url: string, clients: number, stateDir: string): Figures {
  const script = path.join(stateDir, 'usage-insert.sql');
  fs.writeFileSync(
    script,
    `INSERT INTO usage_rows (id, account_id, amount, idempotency_key, payload)
     SELECT gen_random_uuid(), gen_random_uuid(), 1000 + i, gen_random_uuid()::text,
            jsonb_build_object('primitive', 'transfer_gb', 'quantity', '0.01', 'rateCardVersion', 1, 'n', i)
       FROM generate_series(1, ${BATCH}) AS i;\n`,
  );
  const result = spawnSync('pgbench', ['-n', '-f', script, '-c', String(clients), '-j', String(clients), '-T', String(SECONDS), url], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pgbench failed: ${result.stderr}`);
  const tps = Number(/tps = ([\d.]+)/.exec(result.stdout)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(result.stdout)?.[1]);
  return { perSecond: tps * BATCH, p50: latency, p99: NaN, errors: 0 };
}

const seed = (pool: Pool) => fundedCooperative(pool, 'Bench usage', MEMBERS);

async function main(): Promise<void> {
  if (spawnSync('pgbench', ['--version']).status !== 0) throw new Error('pgbench is not installed: it is the reference this benchmark compares with (Debian: apt-get install postgresql-client).');
  const stateDir = path.join(projectRoot, '.state', 'bench-usage');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    log(`Machine: ${machine()}; batches of ${BATCH} usage records over ${MEMBERS} members, ${SECONDS} s per measurement after ${WARMUP_SECONDS} s warm-up`);
    const pg = await startEmbeddedPostgres({ dataDir: path.join(stateDir, 'postgres'), port: await freePort(), database: 'bench', logFile: path.join(stateDir, 'postgres.log'), log });
    stops.push(pg.stop);
    await migrate(pg.url, 'up');
    await enableAppLogin(pg.url, 'bench-app-password');
    const appUrl = Object.assign(new URL(pg.url), { username: 'coop_app', password: 'bench-app-password' }).toString();
    // Rate limits are not what is measured.
    const config = loadConfig({ ...process.env, LOG_LEVEL: 'error', DATABASE_URL: appUrl, RATE_LIMIT_SERVICE: '1000000' });
    const owner = createPool(pg.url, { max: 4 });
    stops.push(() => owner.end());
    const pool = createPool(config.database.url, { max: 8 });
    stops.push(() => pool.end());

    log(`Seeding a cooperative with ${MEMBERS} funded members`);
    const { coop, members } = await seed(owner);
    let phase = 0;
    let clientCount = 1;
    // Each client reports for its own members, as metering shards by member; records of a batch spread
    // over its members (31 is prime to any member count used here, so 1,000 records hit distinct wallets).
    const records = (c: number, n: number) =>
      Array.from({ length: BATCH }, (_, i) => ({
        memberId: members[((n * 104_729 + i * 31) % Math.floor(members.length / clientCount)) * clientCount + c]!,
        primitive: PRIMITIVES[i % PRIMITIVES.length]!,
        quantity: 10_000n + BigInt(i),
        idempotencyKey: `p${phase}-${c}-${n}-${i}`,
      }));

    const app = createApp({ config, pool, temporal: {} as never, logger: pino({ level: 'silent' }), stripe: createStripeClient(config.stripe) });
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/cooperatives/${coop}/usage/batch`;
    const token = await signToken(config.jwt, { subject: 'bench-metering', role: 'service', cooperativeId: coop });

    const viaLedger = async (c: number, n: number) => (await ledger.redeemUsageBatch(pool, coop, records(c, n))).filter((o) => 'error' in o).length;
    const viaApi = async (c: number, n: number) => {
      const body = JSON.stringify({ records: records(c, n).map((r) => ({ ...r, quantity: (Number(r.quantity) / 1e6).toFixed(6) })) });
      const res = await fetch(base, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { failed: number }).failed;
    };

    log('Preparing the pgbench reference table in its own database on the same server');
    const pgbenchUrl = pg.url.replace(/\/[^/]+$/, '/pgbench');
    await owner.query('DROP DATABASE IF EXISTS pgbench').then(() => owner.query('CREATE DATABASE pgbench'));
    const ref = createPool(pgbenchUrl, { max: 1 });
    await ref.query(`CREATE TABLE usage_rows (id uuid PRIMARY KEY, account_id uuid NOT NULL, amount bigint NOT NULL CHECK (amount > 0), idempotency_key text NOT NULL UNIQUE,
                                             payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await ref.end();

    const rows: string[][] = [];
    const figures: Figure[] = [];
    const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
    for (const clients of CLIENTS) {
      clientCount = clients;
      log(`pgbench INSERT … SELECT of ${BATCH} rows, ${clients} clients...`);
      const reference = pgbenchInserts(pgbenchUrl, clients, stateDir);
      rows.push([`pgbench INSERT of ${BATCH} rows (reference)`, String(clients), reference.perSecond.toFixed(0), fmt(reference.p50), '-', '1.00', '0']);
      for (const [name, run] of [['ledger redeemUsageBatch', viaLedger], ['API POST …/usage/batch', viaApi]] as const) {
        log(`${name}, ${clients} clients...`);
        phase++;
        const f = await measure(clients, run);
        rows.push([name, String(clients), f.perSecond.toFixed(0), fmt(f.p50), fmt(f.p99), (f.perSecond / reference.perSecond).toFixed(2), String(f.errors)]);
        figures.push({
          name: `usage redemptions, batches of ${BATCH}, ${name}, ${clients} client${clients > 1 ? 's' : ''}`,
          value: Math.round(f.perSecond),
          unit: 'records/s',
          reference: { name: `pgbench INSERT … SELECT of ${BATCH} rows, ${clients} client${clients > 1 ? 's' : ''} (rows/s)`, value: Math.round(reference.perSecond) },
          aim: '>= 25,000/s',
        });
      }
    }
    printTable(log, ['workload', 'clients', 'records/s', 'p50 ms', 'p99 ms', 'vs pgbench', 'failed'], rows);
    log('records/s counts redeemed records; "p50/p99 ms" is per batch (pgbench: average latency per transaction); "vs pgbench" divides by pgbench rows/s at the same clients.');
    const report = await ledger.integrityReport(pool, coop);
    log(`Ledger integrity after the run: ${report.clean ? 'clean' : `${report.findings.length} findings`}`);
    if (!report.clean) throw new Error(`integrity findings: ${JSON.stringify(report.findings.slice(0, 5))}`);
    recordFigures('usage-batch', figures);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

runBench(main);
