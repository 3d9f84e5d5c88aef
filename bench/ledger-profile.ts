import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Client, type Pool } from 'pg';
import { projectRoot } from '../config/project-root';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { freePort } from '../scripts/ports';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { fundedCooperative } from './funded-cooperative';
import { log, machine, runBench } from './stack';
import { printTable } from './table';
import { measure, pgbench, SECONDS, workloadsOf, type Figures } from './ledger-workloads';

/**
 * `npm run bench:ledger-profile`: where a ledger operation's time goes, next to pgbench tpcb-like on the
 * same server at the same client count. Per workload it prints throughput, round trips and statements
 * per operation, CPU per operation in PostgreSQL and in this (client) process, what the server's
 * backends were doing when sampled (on CPU, waiting on a lock, waiting for the client...), and the
 * statements that took the server's time (pg_stat_statements). Run `node --cpu-prof` on it for the
 * client's own profile. Diagnostic only: `npm run bench` prints the figures that count.
 */
const CLIENTS = Number(process.env.PROFILE_CLIENTS ?? 8);
const MEMBERS = 256;
const SAMPLE_MS = 10;
/** Statements listed per workload. */
const TOP = Number(process.env.PROFILE_TOP ?? 8);

/**
 * CPU seconds used so far by one PostgreSQL server: its postmaster (with what its exited children left
 * it) and the processes it started (backends, WAL writer, checkpointer...).
 */
function serverCpuSeconds(postmaster: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name: state, ppid, ...; utime, stime, cutime, cstime are 12-15 of them.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) !== postmaster && Number(fields[1]) !== postmaster) continue;
      total += fields.slice(11, 15).reduce((sum, v) => sum + Number(v), 0);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total / tick;
}

/** CPU seconds of this process and of its reaped children (pgbench). */
function clientCpuSeconds(): { self: number; children: number } {
  const usage = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: (usage.user + usage.system) / 1e6, children: (Number(fields[13]) + Number(fields[14])) / 100 };
}

/** What client backends of `database` are doing, sampled every SAMPLE_MS while `run` runs. */
async function sampleBackends<T>(url: string, database: string, run: () => Promise<T>): Promise<{ result: T; states: Map<string, number> }> {
  const sampler = new Client({ connectionString: url });
  await sampler.connect();
  const states = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ state: string; wait: string | null }>(
        `SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND datname = $1 AND pid <> pg_backend_pid()`,
        [database],
      );
      for (const r of rows) {
        const key = r.state === 'active' ? (r.wait ? `waiting ${r.wait}` : 'on CPU') : r.state === 'idle in transaction' ? 'idle in transaction (client)' : `${r.state}${r.wait && r.state !== 'idle' ? ` ${r.wait}` : ''}`;
        states.set(key, (states.get(key) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  })();
  try {
    return { result: await run(), states };
  } finally {
    running = false;
    await loop;
    await sampler.end();
  }
}

/** Counts the messages this process sends to PostgreSQL: every `query` call is one round trip. */
function countRoundTrips(): () => number {
  let count = 0;
  const original = Client.prototype.query;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    count++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return () => count;
}

interface Statement {
  query: string;
  calls: string;
  total: number;
  mean: number;
  rows: string;
}

async function topStatements(admin: Pool, database: string, limit: number): Promise<{ statements: Statement[]; calls: number; total: number }> {
  const { rows } = await admin.query<Statement>(
    `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls::text, total_exec_time AS total, mean_exec_time AS mean, rows::text
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 AND query NOT LIKE '%pg_stat_activity%' ORDER BY total_exec_time DESC`,
    [database],
  );
  return { statements: rows.slice(0, limit), calls: rows.reduce((n, r) => n + Number(r.calls), 0), total: rows.reduce((n, r) => n + r.total, 0) };
}

async function main(): Promise<void> {
  const stateDir = path.join(projectRoot, '.state', 'bench-ledger-profile');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  log(`Machine: ${machine()}; ${CLIENTS} clients, ${SECONDS} s per workload`);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(stateDir, 'postgres'), port: await freePort(), database: 'bench', logFile: path.join(stateDir, 'postgres.log'), log,
    settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', track_io_timing: 'on' },
  });
  const postmaster = Number(fs.readFileSync(path.join(stateDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pool = createPool(pg.url, { max: CLIENTS + 4 });
  try {
    await migrate(pg.url, 'up');
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    if (process.env.PROFILE_EXPERIMENT) await pool.query(process.env.PROFILE_EXPERIMENT);
    log(`Seeding a cooperative with ${MEMBERS} funded members`);
    const { coop, members } = await fundedCooperative(pool, 'Profile', MEMBERS);
    const pgbenchUrl = pg.url.replace(/\/[^/]+$/, '/pgbench');
    await pool.query('CREATE DATABASE pgbench');
    const init = spawnSync('pgbench', ['-i', '-s', '10', '-q', pgbenchUrl], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}. Is pgbench installed (apt-get install postgresql-client)?`);

    const roundTrips = countRoundTrips();
    let phase = 0;
    const workloads = workloadsOf(pool, coop, members, (kind, c, n) => `profile${phase}-${kind}-${c}-${n}`);
    // Operations started over the whole run, warm-up included, as the CPU and statement counters are.
    let started = 0;
    const runs: Array<[string, string, () => Promise<Figures>]> = [
      ['pgbench tpcb-like (reference)', 'pgbench', async () => pgbench(pgbenchUrl, CLIENTS, stateDir)],
      ...Object.entries(workloads).filter(([name]) => !process.env.PROFILE_ONLY || name.startsWith(process.env.PROFILE_ONLY)).map(([name, op]): [string, string, () => Promise<Figures>] => [name, 'bench', () => measure(CLIENTS, (c, n) => (started++, op(c, n)))]),
    ];
    const summary: string[][] = [];
    const waits: string[][] = [];
    for (const [name, database, run] of runs) {
      phase++;
      log(`${name}, ${CLIENTS} clients...`);
      await pool.query('SELECT pg_stat_statements_reset()');
      started = 0;
      const trips0 = roundTrips();
      const server0 = serverCpuSeconds(postmaster);
      const client0 = clientCpuSeconds();
      const { result: f, states } = await sampleBackends(pg.url, database, run);
      const client1 = clientCpuSeconds();
      const server1 = serverCpuSeconds(postmaster);
      const trips = roundTrips() - trips0;
      const ops = database === 'pgbench' ? f.opsPerSecond * SECONDS : started;
      const top = await topStatements(pool, database, TOP);
      const perOp = (v: number) => (v / ops).toFixed(2);
      const clientCpu = database === 'pgbench' ? client1.children - client0.children : client1.self - client0.self;
      summary.push([
        name, f.opsPerSecond.toFixed(0), f.p99.toFixed(1), database === 'pgbench' ? '(simple protocol, 1 per statement)' : perOp(trips), perOp(top.calls),
        perOp((server1 - server0) * 1000), perOp(clientCpu * 1000), perOp(top.total),
      ]);
      const sampled = [...states.values()].reduce((a, b) => a + b, 0);
      for (const [state, count] of [...states].sort((a, b) => b[1] - a[1]).slice(0, 6)) waits.push([name, state, `${((100 * count) / sampled).toFixed(0)} %`]);
      log(`  statements by server time (${name}):`);
      printTable(log, ['calls/op', 'mean ms', 'share', 'statement'], top.statements.map((s) => [perOp(Number(s.calls)), s.mean.toFixed(3), `${((100 * s.total) / top.total).toFixed(0)} %`, s.query.slice(0, Number(process.env.PROFILE_WIDTH ?? 110))]));
    }
    log('');
    printTable(log, ['workload', 'ops/s', 'p99 ms', 'round trips/op', 'statements/op', 'server CPU ms/op', 'client CPU ms/op', 'server exec ms/op'], summary);
    log('Server CPU counts every PostgreSQL process (backends, WAL writer, checkpointer); client CPU is this Node process (or pgbench).');
    printTable(log, ['workload', 'client backends were', 'of samples'], waits);
  } finally {
    await pool.end();
    await pg.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

runBench(main);
