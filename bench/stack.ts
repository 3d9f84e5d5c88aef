import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Pool } from 'pg';
import pino from 'pino';
import { createStripeClient } from '../clients/stripe';
import { connectTemporalClient } from '../clients/temporal';
import { loadConfig, type Config } from '../config/config';
import { projectRoot } from '../config/project-root';
import { enableAppLogin, migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { freePort } from '../scripts/ports';
import { startTemporalDevServer } from '../scripts/temporal-dev-server';
import type { ActivityDependencies } from '../activities';
import { bundleWorkflows } from '../workers/bundle';
import { installWorkerRuntime } from '../workers/runtime';
import { activityDependencies, createWorker } from '../workers/worker';

export const log = (line: string) => process.stdout.write(`${line}\n`);

export const machine = () => `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;

/** What a benchmark runs against: a scratch PostgreSQL and Temporal dev server, and a real worker on them. */
export interface BenchStack {
  stateDir: string;
  /** The environment the configuration was loaded from: for a process the benchmark starts (the API). */
  env: NodeJS.ProcessEnv;
  config: Config;
  /** As the application (coop_app, row-level security). */
  pool: Pool;
  /** As the database owner: for seeding in bulk. */
  owner: Pool;
  temporal: Client;
  dependencies: ActivityDependencies;
  /** Stops what the benchmark started, `stop`s registered later first, and removes the state folder. */
  stop(): Promise<void>;
  /** Something to stop with the stack (a server, a relay), before what it was started on. */
  onStop(stop: () => Promise<unknown>): void;
}

/**
 * Starts the stack a benchmark measures in `.state/bench-<name>` (removed first and at the end):
 * embedded PostgreSQL, migrated; the Temporal dev server; a worker on `bench-<name>` with every
 * activity, configured from the environment and `env`. Shows progress on the way.
 */
export async function startBenchStack(name: string, env: Record<string, string> = {}): Promise<BenchStack> {
  const stateDir = path.join(projectRoot, '.state', `bench-${name}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    log('Starting a scratch embedded PostgreSQL and Temporal dev server');
    const pg = await startEmbeddedPostgres({ dataDir: path.join(stateDir, 'postgres'), port: await freePort(), database: 'bench', logFile: path.join(stateDir, 'postgres.log'), log });
    stops.push(pg.stop);
    const temporalServer = await startTemporalDevServer({ port: await freePort(), namespace: 'default', fastStore: true, logFile: path.join(stateDir, 'temporal.log'), log });
    stops.push(temporalServer.stop);
    await migrate(pg.url, 'up');
    const appPassword = 'bench-app-password';
    await enableAppLogin(pg.url, appPassword);
    const appUrl = Object.assign(new URL(pg.url), { username: 'coop_app', password: appPassword }).toString();
    const stackEnv = { ...process.env, LOG_LEVEL: 'error', ...env, DATABASE_URL: appUrl, TEMPORAL_ADDRESS: temporalServer.address, TEMPORAL_TASK_QUEUE: `bench-${name}` };
    const config = loadConfig(stackEnv);

    log('Bundling workflows and starting the worker');
    installWorkerRuntime(pino({ level: 'error' }));
    const pool = createPool(config.database.url, { max: 20 });
    stops.push(() => pool.end());
    const owner = createPool(pg.url, { max: 4 });
    stops.push(() => owner.end());
    const connection = await NativeConnection.connect({ address: temporalServer.address });
    stops.push(() => connection.close());
    const temporal = await connectTemporalClient(config.temporal);
    stops.push(() => temporal.connection.close());
    const dependencies = activityDependencies(config, { pool, stripe: createStripeClient(config.stripe), temporal: temporal.client });
    const worker = await createWorker({ connection, namespace: 'default', taskQueue: config.temporal.taskQueue, dependencies, workflowBundle: await bundleWorkflows() });
    const running = worker.run();
    stops.push(async () => (worker.shutdown(), running));
    return { stateDir, env: stackEnv, config, pool, owner, temporal: temporal.client, dependencies, stop, onStop: (s) => stops.push(s) };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts the API as its own process on the stack, as `npm start` runs it (the stack's environment, on
 * the API_PORT it was started with, plus `env`), stopped with the stack; resolves with its base URL once
 * it answers.
 */
export async function startApiProcess(stack: BenchStack, options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<string> {
  const port = stack.env.API_PORT;
  if (!port) throw new Error('start the bench stack with API_HOST=127.0.0.1 and an API_PORT to run the API on it');
  const api = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(__dirname, '..', 'api', 'main.js')], { env: { ...stack.env, ...options.env }, stdio: ['ignore', 'ignore', 'inherit'] });
  stack.onStop(async () => {
    if (api.exitCode !== null) return;
    api.kill('SIGTERM');
    await new Promise((resolve) => api.once('exit', resolve));
  });
  const base = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
    if (api.exitCode !== null) throw new Error(`the API process exited with code ${api.exitCode} before answering; its errors are above`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return base;
}

/** Runs a benchmark's main, reporting a failure with its stack and a non-zero exit. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    // Some clients' errors carry whole request bodies: the first lines say what failed.
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`bench failed: ${text.length > 4000 ? `${text.slice(0, 4000)}…` : text}\n`);
    process.exit(1);
  });
}
