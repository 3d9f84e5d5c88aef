import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Pool } from 'pg';
import { createActivities, type Activities } from '../../activities';
import { outboxPublisher } from '../../activities/outbox';
import { createStripeClient } from '../../clients/stripe';
import { connectTemporalClient } from '../../clients/temporal';
import { httpClient, type HttpRequest } from './http-client';
import { createApp } from '../../api/app';
import { answerClientErrors } from '../../api/client-errors';
import { signToken, type TokenClaims } from '../../api/auth/tokens';
import { loadConfig, type Config } from '../../config/config';
import { createPool } from '../../db/pool';
import { installWorkerRuntime } from '../../workers/runtime';
import { startOutboxRelay } from '../../workers/outbox-relay';
import { activityDependencies, createWorker } from '../../workers/worker';

/** The configuration global-setup prepared for this run, with any overrides (e.g. a task queue of a test's own). */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/**
 * The configuration of an API or worker under test: it logs in as the application role (coop_app),
 * as in production. Overrides may name another database: DATABASE_URL (the app's) and DATABASE_OWNER_URL.
 */
export function applicationConfig(overrides: Record<string, string> = {}): Config {
  return testConfig({ ...(process.env.DATABASE_APP_URL ? { DATABASE_URL: process.env.DATABASE_APP_URL } : {}), ...overrides });
}

export interface TestApi {
  url: string;
  pool: Pool;
  temporal: Client;
  config: Config;
  token(claims: TokenClaims): Promise<string>;
  request: HttpRequest;
  close(): Promise<void>;
}

/**
 * The real Express app on an ephemeral port, with its own pool (as coop_app) and Temporal client.
 * `pool` is the test's own, as the database owner, to inspect and seed what the app cannot see.
 */
export async function startTestApi(overrides: Record<string, string> = {}, options: { workflowWaitMs?: number; lazyTemporal?: boolean } = {}): Promise<TestApi> {
  const config = applicationConfig(overrides);
  const appPool = createPool(config.database.url, { max: 10 });
  const pool = createPool(overrides.DATABASE_OWNER_URL ?? testConfig().database.url, { max: 5 });
  // Connected before the tests start, unless a test is about starting while Temporal is away (api/main.ts connects lazily).
  const { client: temporal, connection } = await connectTemporalClient(config.temporal, { lazy: options.lazyTemporal ?? false });
  // A machine busy with the whole suite can take longer than production's 10 s wait for a short workflow;
  // tests that expect the result should get it, not a 202 (decision 0003).
  const app = createApp({ config, pool: appPool, temporal, logger: pino({ level: 'silent' }), stripe: createStripeClient(config.stripe), workflowWaitMs: options.workflowWaitMs ?? 60_000 });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    pool,
    temporal,
    config,
    token: (claims) => signToken(config.jwt, claims),
    request: httpClient(url),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await connection.close();
      await Promise.all([pool.end(), appPool.end()]);
    },
  };
}

export interface TestWorker {
  worker: Worker;
  pool: Pool;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * A real worker on the run's Temporal server, using the workflow bundle global-setup built once.
 * `activityOverrides` replaces some activities, given the real ones: only to inject a fault. With
 * `relay`, the outbox relay runs beside it, as workers/main.ts runs it in production: tests of webhooks
 * need it, and the others leave the outbox alone.
 */
export async function startTestWorker(options: { taskQueue?: string; activityOverrides?: (real: Activities) => Partial<Activities>; env?: Record<string, string>; relay?: boolean } = {}): Promise<TestWorker> {
  const config = applicationConfig({ ...options.env, ...(options.taskQueue ? { TEMPORAL_TASK_QUEUE: options.taskQueue } : {}) });
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  if (!bundlePath) throw new Error('TEST_WORKFLOW_BUNDLE is not set: run the tests through jest (global-setup).');
  runtimeInstalled ||= (installWorkerRuntime(pino({ level: process.env.LOG_LEVEL ?? 'silent' })), true);
  const pool = createPool(config.database.url, { max: 10 });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const temporal = await connectTemporalClient(config.temporal);
  const dependencies = activityDependencies(config, { pool, stripe: createStripeClient(config.stripe), temporal: temporal.client });
  const worker = await createWorker({
    connection, namespace: config.temporal.namespace, workflowBundle: { codePath: bundlePath }, taskQueue: config.temporal.taskQueue,
    dependencies, activityOverrides: options.activityOverrides?.(createActivities(dependencies)),
  });
  const running = worker.run();
  const relay = options.relay ? startOutboxRelay({ databaseUrl: config.database.url, publish: outboxPublisher(dependencies), log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }) }) : undefined;
  return {
    worker,
    pool,
    async stop() {
      await relay?.stop();
      worker.shutdown();
      await running;
      await Promise.all([connection.close(), temporal.connection.close()]);
      await pool.end();
    },
  };
}
