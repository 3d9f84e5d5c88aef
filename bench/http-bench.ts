import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { signToken } from '../api/auth/tokens';
import * as ledger from '../db/ledger';
import { freePort } from '../scripts/ports';
import { recordFigures, type Figure } from './figures';
import { log, machine, runBench, startApiProcess, startBenchStack } from './stack';
import { fundedCooperative } from './funded-cooperative';
import { printTable } from './table';
import { percentile } from './percentile';

/**
 * `npm run bench` (or `npm run bench:http` alone): the HTTP layer (issue 14 points 5 and 6), through the
 * API running as its own process at LOG_LEVEL=info as `npm start` runs it, loaded by autocannon from
 * this process:
 * - balance reads by MEMBERS members (each with its own token, reading its own wallet) at 16
 *   connections, and at a fixed 500 requests/s for the latency aim (p95 <= 10 ms);
 * - transfers between those members at 1, 16 and 64 connections, each with its own idempotency key;
 * - next to them, in the same run with the same load generator: a bare node:http server answering a
 *   balance-sized JSON body, the ceiling of Node's HTTP and of the load generator on this machine; and
 *   the same server asking PostgreSQL `SELECT 1` through a pg pool before each answer, the ceiling of
 *   any Node API that makes one database round trip per request.
 * Budgets are raised so that the rate limiter counts every request and refuses none. The peer's figures
 * (Blnk v0.15.2 on this machine, issue 14) are printed as the aims. Set BENCH_HTTP_PROFILE=1 to write a
 * CPU profile of the API process to .state/bench-http-profile/.
 */
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const MEMBERS = 256;
const PROFILE = process.env.BENCH_HTTP_PROFILE === '1';

interface Run {
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Map<number, number>;
}

const ms = (v: number) => v.toFixed(1);
const statusText = (s: Map<number, number>) => [...s].sort(([a], [b]) => a - b).map(([code, n]) => `${code}×${n}`).join(' ');

/** Loads `url` for SECONDS with autocannon; `request` shapes each request. Every response's time is kept, for exact percentiles. */
async function load(url: string, connections: number, request: () => Partial<autocannon.Request>, overallRate?: number): Promise<Run> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options = { url, connections, duration: SECONDS, ...(overallRate ? { overallRate } : {}), requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...request() }) }] };
    const instance = autocannon(options, (err, done) => (err ? reject(err) : resolve(done)));
    instance.on('response', (_client, status, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  });
  if (result.errors > 0) statuses.set(0, result.errors + result.timeouts);
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, perSecond: latencies.length / SECONDS, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), statuses };
}

function stopping(child: ChildProcess) {
  return async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
}

async function main(): Promise<void> {
  log(`Machine: ${machine()}; ${SECONDS} s per figure; ${MEMBERS} members`);
  const apiPort = await freePort();
  const unlimited = String(1_000_000_000);
  const stack = await startBenchStack('http', {
    API_HOST: '127.0.0.1', API_PORT: String(apiPort),
    RATE_LIMIT_MEMBER_QUERIES: unlimited, RATE_LIMIT_MEMBER_MUTATIONS: unlimited, RATE_LIMIT_SERVICE: unlimited, RATE_LIMIT_ADMIN: unlimited, RATE_LIMIT_PUBLIC: unlimited,
  });
  const { config, owner } = stack;
  try {
    log('Starting the API as its own process (LOG_LEVEL=info, its logs discarded)');
    const base = await startApiProcess(stack, { env: { LOG_LEVEL: 'info' }, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(stack.stateDir, '..', 'bench-http-profile')}`] : [] });

    log(`Seeding a cooperative with ${MEMBERS} members, each with three lots`);
    // A purchased lot each, and two granted ones that expire: a balance with lots in consumption order.
    const { coop, members } = await fundedCooperative(owner, 'HTTP bench', MEMBERS, 1_000_000_000n);
    for (const member of members) {
      for (const days of [30, 90]) {
        await ledger.mint(stack.pool, {
          cooperativeId: coop, memberId: member, amount: 1_000_000_000n, source: 'grant', sourceId: `seed-${member}-${days}`,
          expiresAt: new Date(Date.now() + days * 86_400_000), idempotencyKey: `seed-${member}-${days}`,
        });
      }
    }
    const tokens = await Promise.all(members.map((m) => signToken(config.jwt, { subject: m, role: 'member', cooperativeId: coop })));
    const someone = () => Math.floor(Math.random() * MEMBERS);
    const balanceRequest = () => {
      const i = someone();
      return { method: 'GET' as const, path: `/v1/cooperatives/${coop}/members/${members[i]}/balance`, headers: { authorization: `Bearer ${tokens[i]}` } };
    };
    const transferRequest = () => {
      const from = someone();
      const to = (from + 1 + Math.floor(Math.random() * (MEMBERS - 1))) % MEMBERS;
      return {
        method: 'POST' as const, path: `/v1/cooperatives/${coop}/transfers`,
        headers: { authorization: `Bearer ${tokens[from]}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ toMemberId: members[to], amount: '0.01' }),
      };
    };

    const sample = await fetch(`${base}${balanceRequest().path.replace(/members\/[^/]+/, `members/${members[0]}`)}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    const sampleBody = await sample.text();
    if (sample.status !== 200) throw new Error(`a balance read answered ${sample.status}: ${sampleBody}`);
    log(`A balance response is ${sampleBody.length} bytes`);

    log('Reference: a bare node:http server answering that body, as its own process');
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(process.env.BODY); }).listen(${barePort}, '127.0.0.1')`], { env: { ...process.env, BODY: sampleBody }, stdio: 'ignore' });
    stack.onStop(stopping(bare));
    // The ceiling of any Node API that asks PostgreSQL once per request: node:http, a pg pool of the API's size, `SELECT 1`.
    const floorPort = await freePort();
    const floorServer = `const pool = new (require('pg').Pool)({ connectionString: process.env.DATABASE_URL, max: ${config.database.poolMax} });
      require('node:http').createServer((q, s) => pool.query('SELECT 1').then(() => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(process.env.BODY); }, () => { s.writeHead(503); s.end(); })).listen(${floorPort}, '127.0.0.1')`;
    const floor = spawn(process.execPath, ['-e', floorServer], { env: { ...process.env, BODY: sampleBody, DATABASE_URL: config.database.url }, stdio: 'ignore' });
    stack.onStop(stopping(floor));
    await new Promise((r) => setTimeout(r, 300));

    const rows: Array<{ name: string; run: Run }> = [];
    const measure = async (name: string, run: () => Promise<Run>) => {
      log(`${name}...`);
      rows.push({ name, run: await run() });
    };
    await measure('bare node:http, 16 connections', () => load(`http://127.0.0.1:${barePort}`, 16, () => ({ path: '/' })));
    await measure('node:http + SELECT 1, 16 connections', () => load(`http://127.0.0.1:${floorPort}`, 16, () => ({ path: '/' })));
    await measure('balance reads, 16 connections', () => load(base, 16, balanceRequest));
    await measure('balance reads, 500 req/s', () => load(base, 16, balanceRequest, 500));
    for (const connections of [1, 16, 64]) await measure(`transfers, ${connections} connection${connections === 1 ? '' : 's'}`, () => load(base, connections, transferRequest));

    printTable(log, ['load', 'requests/s', 'p50 ms', 'p95 ms', 'p99 ms', 'answers'], rows.map(({ name, run }) => [name, run.perSecond.toFixed(0), ms(run.p50), ms(run.p95), ms(run.p99), statusText(run.statuses)]));
    const figure = (name: string) => rows.find((r) => r.name === name)!.run;
    const bareRun = figure('bare node:http, 16 connections');
    const floorRun = figure('node:http + SELECT 1, 16 connections');
    const reads = figure('balance reads, 16 connections');
    const paced = figure('balance reads, 500 req/s');
    const figures: Figure[] = [
      { name: 'node:http + one PostgreSQL SELECT 1 per request, 16 connections', value: floorRun.perSecond, unit: 'req/s', reference: { name: 'bare node:http', value: bareRun.perSecond }, aim: 'ceiling of a Node API asking PostgreSQL once per request' },
      { name: 'balance reads, 16 connections', value: reads.perSecond, unit: 'req/s', reference: { name: 'node:http + SELECT 1', value: floorRun.perSecond }, aim: '>= 5,000/s (peer: 4,627/s)' },
      { name: 'balance reads at 500 req/s, p95', value: paced.p95, unit: 'ms', aim: '<= 10 ms' },
      ...[1, 16, 64].map((c) => {
        const run = figure(`transfers, ${c} connection${c === 1 ? '' : 's'}`);
        const peer = { 1: 290, 16: 710, 64: 718 }[c]!;
        return { name: `transfers, ${c} connection${c === 1 ? '' : 's'}`, value: run.perSecond, unit: 'req/s', reference: { name: 'peer (Blnk, issue 14)', value: peer }, aim: `>= ${peer}/s` };
      }),
    ];
    recordFigures('http', figures);
    const report = await ledger.integrityReport(stack.pool, coop);
    log(`Ledger integrity after the run: ${report.clean ? 'clean' : `${report.findings.length} findings`}`);
    if (PROFILE) log(`CPU profile of the API process: ${path.join(stack.stateDir, '..', 'bench-http-profile')} (written when it stops)`);
  } finally {
    await stack.stop();
  }
}

runBench(main);
