import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { loadConfig } from '../config/config';
import { projectRoot } from '../config/project-root';
import * as ledger from '../db/ledger';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { seedHistory } from './seed-history';
import { recordFigures, type Figure } from './figures';
import { fundedCooperative } from './funded-cooperative';
import { printTable } from './table';
import { errorMessages, measure, pgbench, pooled, SECONDS, WARMUP_SECONDS, workloadsOf, type Figures, type Op } from './ledger-workloads';

/**
 * `npm run bench`: ledger throughput and latency at 1, 8 and 32 concurrent clients (and a 16-client
 * mix), next to pgbench's built-in tpcb-like script at the same client counts against the same
 * PostgreSQL in the same run. Speed is never asserted by a test; this prints figures.
 */
const MEMBERS = 256;
const CLIENTS = [1, 8, 16, 32];
/** Transactions (and lots) of history the "long history" cooperative is seeded with. */
const HISTORY = Number(process.env.BENCH_HISTORY ?? 1_000_000);
const HISTORY_CLIENTS = 8;
const log = (line: string) => process.stdout.write(`${line}\n`);

const setUp = (pool: Pool) => fundedCooperative(pool, 'Bench', MEMBERS);

async function main(): Promise<void> {
  if (spawnSync('pgbench', ['--version']).status !== 0) {
    throw new Error('pgbench is not installed: it is the reference this benchmark compares with. Install it (Debian: apt-get install postgresql-client) and run again.');
  }
  const config = loadConfig();
  const stateDir = path.join(projectRoot, '.state', 'bench');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  log(`Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${SECONDS} s per measurement after ${WARMUP_SECONDS} s warm-up`);
  // The owner's connection: it migrates and seeds; ledger operations still run as coop_app in their transactions.
  let url = config.database.ownerUrl;
  let stopPg: () => Promise<void> = async () => undefined;
  if (!config.database.external) {
    log('Starting a scratch embedded PostgreSQL for the benchmark');
    const pg = await startEmbeddedPostgres({ dataDir: path.join(stateDir, 'postgres'), port: config.database.embeddedPort + 100, database: 'bench', logFile: path.join(stateDir, 'postgres.log'), log });
    url = pg.url;
    stopPg = pg.stop;
  }
  const pool = createPool(url, { max: 40 });
  try {
    await migrate(url, 'up');
    log(`Seeding a cooperative with ${MEMBERS} funded members`);
    const { coop, members } = await setUp(pool);
    // Every measurement gets its own key space: a repeated key would be a (cheaper) replay.
    let phase = 0;
    const key = (kind: string, c: number, n: number) => `p${phase}-${kind}-${c}-${n}`;
    const workloads = workloadsOf(pool, coop, members, key);
    // The mix a cooperative sees: mostly usage and holds from metering, some member transfers.
    const mixed: Op = (c, n) => {
      const r = n % 10;
      if (r < 4) return workloads['usage redemption']!(c, n);
      if (r < 7) return workloads.transfer!(c, n);
      return workloads['hold reserve+finalize']!(c, n);
    };

    log('Initialising pgbench (scale 10) in its own database on the same server');
    const pgbenchUrl = url.replace(/\/[^/]+$/, '/pgbench');
    await pool.query('DROP DATABASE IF EXISTS pgbench').then(() => pool.query('CREATE DATABASE pgbench'));
    const init = spawnSync('pgbench', ['-i', '-s', '10', '-q', pgbenchUrl], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);

    const rows: string[][] = [];
    const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
    const reference = new Map<number, Figures>();
    for (const clients of CLIENTS) {
      log(`pgbench tpcb-like, ${clients} clients...`);
      const f = pgbench(pgbenchUrl, clients, stateDir);
      reference.set(clients, f);
      rows.push(['pgbench tpcb-like (reference)', String(clients), f.opsPerSecond.toFixed(0), ms(f.p50), ms(f.p99), '1.00', '0']);
    }
    const figures: Figure[] = [];
    const versusPgbench = (name: string, clients: number, f: Figures, aim: string) =>
      figures.push({ name: `${name}, ${clients} clients`, value: f.opsPerSecond, unit: 'ops/s', reference: { name: 'pgbench tpcb-like', value: reference.get(clients)!.opsPerSecond }, aim });
    for (const [name, op] of Object.entries(workloads)) {
      for (const clients of CLIENTS) {
        log(`${name}, ${clients} clients...`);
        phase++;
        const f = await measure(clients, op);
        rows.push([name, String(clients), f.opsPerSecond.toFixed(0), ms(f.p50), ms(f.p99), (f.opsPerSecond / reference.get(clients)!.opsPerSecond).toFixed(2), String(f.errors)]);
        // One hold is two ledger transactions: its aim is half the others'.
        if (clients >= 8) versusPgbench(name, clients, f, name.startsWith('hold') ? '>= 0.35x pgbench' : '>= 0.70x pgbench');
      }
    }
    log('mixed (40% usage, 30% transfer, 30% hold reserve+finalize), 16 clients...');
    phase++;
    const mix = await measure(16, mixed);
    rows.push(['mixed ledger operations', '16', mix.opsPerSecond.toFixed(0), ms(mix.p50), ms(mix.p99), (mix.opsPerSecond / reference.get(16)!.opsPerSecond).toFixed(2), String(mix.errors)]);

    versusPgbench('mixed ledger operations', 16, mix, '>= 0.70x pgbench');
    figures.push({ name: 'mixed ledger operations, 16 clients, p99', value: mix.p99, unit: 'ms', reference: { name: 'pgbench tpcb-like p99', value: reference.get(16)!.p99 }, aim: '<= 15 ms' });
    printTable(log, ['workload', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'vs pgbench', 'errors'], rows);
    log('"vs pgbench" divides ops/s by pgbench tpcb-like tps at the same client count, measured above on the same server.');
    log('One hold reserve+finalize is two ledger transactions and counts as one op.');
    log(`Aim: at 16+ clients >= 3000 mixed ops/s, p99 < 15 ms, >= 0.70 of pgbench. Measured mix: ${mix.opsPerSecond.toFixed(0)} ops/s, p99 ${ms(mix.p99)} ms, ${(mix.opsPerSecond / reference.get(16)!.opsPerSecond).toFixed(2)} of pgbench.`);

    // Cost must not grow with history: the same operations on a fresh cooperative and on one with a long
    // history, alternating on the same server.
    const history: string[][] = [];
    if (HISTORY > 0) {
      log(`Seeding a second cooperative with ${MEMBERS} funded members and ${HISTORY.toLocaleString('en')} transactions of history`);
      const old = await setUp(pool);
      const started = performance.now();
      await seedHistory(pool, old.coop, HISTORY, (done, total) => log(`  history ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${((performance.now() - started) / 1000).toFixed(0)} s)`));
      const fresh = await setUp(pool);
      // Neither side measures the seed's aftermath: autovacuum's first pass over a million new rows and the
      // checkpoint writing them, which otherwise land in whichever run comes first.
      log('Vacuuming the seeded tables and checkpointing before measuring');
      await pool.query('VACUUM (ANALYZE) transactions, entries, lots, lot_movements, holds');
      await pool.query('CHECKPOINT');
      for (const name of Object.keys(workloads)) {
        phase++;
        // In the order fresh, history, history, fresh, each side's figure pooled over its two runs: a drift
        // over the phase (the server warming up, or background work) weighs on both sides alike.
        const run = async (side: 'fresh' | 'history') => {
          log(`${name}, ${HISTORY_CLIENTS} clients, ${side === 'fresh' ? 'fresh cooperative' : 'cooperative with history'}...`);
          const { coop: c, members: m } = side === 'fresh' ? fresh : old;
          return measure(HISTORY_CLIENTS, workloadsOf(pool, c, m, key)[name]!);
        };
        const a1 = await run('fresh');
        const b1 = await run('history');
        const b2 = await run('history');
        const a2 = await run('fresh');
        const a = pooled(a1, a2);
        const b = pooled(b1, b2);
        history.push([name, String(HISTORY_CLIENTS), a.opsPerSecond.toFixed(0), ms(a.p99), b.opsPerSecond.toFixed(0), ms(b.p99), (b.opsPerSecond / a.opsPerSecond).toFixed(2), (b.p99 / a.p99).toFixed(2), String(a.errors + b.errors)]);
        const withHistory = `${name}, ${HISTORY_CLIENTS} clients, ${HISTORY.toLocaleString('en')} transactions of history`;
        figures.push({ name: withHistory, value: b.opsPerSecond, unit: 'ops/s', reference: { name: 'fresh cooperative', value: a.opsPerSecond }, aim: '0.90-1.10x' });
        figures.push({ name: `${withHistory}, p99`, value: b.p99, unit: 'ms', reference: { name: 'fresh cooperative', value: a.p99 }, aim: '0.90-1.10x' });
      }
      printTable(log, ['workload', 'clients', 'fresh ops/s', 'fresh p99', 'history ops/s', 'history p99', 'ops ratio', 'p99 ratio', 'errors'], history);
      log(`"history" is a cooperative with ${HISTORY.toLocaleString('en')} earlier transactions and lots; aim: within 10 % of the fresh one (ratios 0.90-1.10).`);
      const oldReport = await ledger.integrityReport(pool, old.coop);
      log(`Ledger integrity of the cooperative with history: ${oldReport.clean ? 'clean' : `${oldReport.findings.length} findings`}`);
    }

    recordFigures('ledger', figures);
    const report = await ledger.integrityReport(pool, coop);
    log(`Ledger integrity after the run: ${report.clean ? 'clean' : `${report.findings.length} findings`}`);
    for (const [message, count] of errorMessages) log(`error x${count}: ${message}`);
  } finally {
    await pool.end();
    await stopPg();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
