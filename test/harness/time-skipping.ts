import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Pool } from 'pg';
import { createActivities, type Activities } from '../../activities';
import { createApp } from '../../api/app';
import { signToken, type TokenClaims } from '../../api/auth/tokens';
// The one place this harness names the shared clients' modules.
import { dataConverter } from '../../clients/data-converter';
import { createStripeClient } from '../../clients/stripe';
import type { Config } from '../../config/config';
import { createPool } from '../../db/pool';
import { applicationConfig, testConfig } from './stack';
import { freePort, waitForPort } from '../../scripts/ports';
import { ensureTemporalTestServer } from '../../scripts/temporal-test-server';
import { activityDependencies, createWorker } from '../../workers/worker';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { httpClient, type HttpRequest } from './http-client';

/**
 * Workflows in virtual time: Temporal's time-skipping test server (one per test file), a real worker
 * with the real activities on the run's PostgreSQL and stripe-mock, and optionally the real API using
 * the test server's client. Time moves on only when a test sleeps or awaits a workflow's result; then
 * the server jumps straight to the next timer, so a 120-day window passes in milliseconds.
 *
 * The time-skipping server's clock is shared by everything on it: run one file's tests one at a time
 * (jest does) and never share a stack between test files.
 */
export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  /** The test server's client: awaiting a workflow's result lets time skip until the workflow completes. */
  client: Client;
  pool: Pool;
  config: Config;
  taskQueue: string;
  /** The real activities (what the worker runs, before any override). */
  activities: Activities;
  /** The real API on an ephemeral port, its Temporal client being `client`; present when asked for. */
  api?: { url: string; request: HttpRequest; token(claims: TokenClaims): Promise<string> };
  /** The test server's current (virtual) time, in ms since the epoch. */
  now(): Promise<number>;
  /** Lets `ms` of virtual time pass, firing every timer due meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Lets virtual time pass until `epochMs` (at once if that time has passed). */
  sleepUntil(epochMs: number): Promise<void>;
  /**
   * How many of a workflow's timers have fired, from its history. The server records a timer's firing
   * before a sleep past it returns, whereas what the workflow then does takes a moment more: this is
   * how a test shows that a deadline has not passed yet, or just has.
   */
  firedTimers(workflowId: string): Promise<number>;
  /** When the workflow's pending timer (the latest started, neither fired nor cancelled) fires, in virtual ms, from its history; undefined if it has none. */
  pendingTimer(workflowId: string): Promise<number | undefined>;
  /**
   * Runs `fn` with this process's `Date.now()` on the test server's clock. For API routes that compute
   * a workflow's deadline from their own clock (opening a proposal): the workflow measures it against
   * virtual time, which runs ahead of the wall clock once a test has skipped time.
   */
  onVirtualClock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Shuts the worker down, runs `meanwhile` with no worker polling (timers still fire; the workflow
   * tasks they make wait), then starts a new worker, which picks the workflows up from their histories,
   * as after a deploy or a crash. Needs `restartableWorkers`.
   */
  restartWorker(meanwhile: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface TimeSkippingOptions {
  /** Start the real API on the test server's client. */
  api?: boolean;
  /** Replace some activities, given the real ones: only to inject a fault or an external answer. */
  activityOverrides?: (real: Activities) => Partial<Activities>;
  /** Configuration overrides (environment variable names), e.g. REVENUE_RULE_COOLDOWN_SECONDS. */
  configOverrides?: Record<string, string>;
  /**
   * Workers without a workflow cache, hence without sticky queues, so that restartWorker works: the test
   * server never hands the sticky tasks of a worker that has gone back to the shared queue.
   */
  restartableWorkers?: boolean;
}

let runtimeInstalled = false;

export async function startTimeSkippingStack(options: TimeSkippingOptions = {}): Promise<TimeSkippingStack> {
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  if (!bundlePath) throw new Error('TEST_WORKFLOW_BUNDLE is not set: run the workflow tests through jest (its global setup bundles the workflows).');
  if (!runtimeInstalled) {
    // Errors only, unless LOG_LEVEL asks for more. The SDK's core warns on every worker that the test
    // server does not advertise capabilities a real server has; that is expected here.
    const level = ({ trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' } as Record<string, LogLevel>)[process.env.LOG_LEVEL ?? ''] ?? 'ERROR';
    Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: level } } } });
    runtimeInstalled = true;
  }

  const taskQueue = `time-skipping-${randomUUID().slice(0, 8)}`;
  // The worker and API log in as the application role, as in production; the test's own pool is the owner's.
  const config = applicationConfig({ ...options.configOverrides, TEMPORAL_TASK_QUEUE: taskQueue, TEMPORAL_NAMESPACE: 'default' });
  const { env, stop: stopServer } = await startTestServer();
  const closers: Array<() => Promise<unknown>> = [stopServer, () => env.teardown()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    await registerSearchAttributes(env);
    const appPool = createPool(config.database.url, { max: 10 });
    const pool = createPool(testConfig().database.url, { max: 5 });
    closers.push(() => Promise.all([appPool.end(), pool.end()]));
    const stripe = createStripeClient(config.stripe);
    const dependencies = activityDependencies(config, { pool: appPool, stripe, temporal: env.client });
    const activities = createActivities(dependencies);

    /** Starts a worker on the task queue; the function it returns shuts it down (running activities finish). */
    const startWorker = async (): Promise<() => Promise<void>> => {
      const worker: Worker = await createWorker({
        connection: env.nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        dependencies,
        workflowBundle: { codePath: bundlePath },
        activityOverrides: options.activityOverrides?.(activities),
        ...(options.restartableWorkers ? { maxCachedWorkflows: 0 } : {}),
      });
      const running = worker.run();
      return async () => {
        worker.shutdown();
        await running;
      };
    };
    let stopWorker = await startWorker();
    closers.push(() => stopWorker());

    let api: TimeSkippingStack['api'];
    if (options.api) {
      const app = createApp({ config, pool: appPool, temporal: env.client, logger: pino({ level: process.env.API_LOG_LEVEL ?? 'silent' }), stripe });
      const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      closers.push(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      api = { url, request: httpClient(url), token: (claims) => signToken(config.jwt, claims) };
    }

    const now = () => env.currentTimeMs();
    return {
      env,
      client: env.client,
      pool,
      config,
      taskQueue,
      activities,
      api,
      now,
      sleep: (ms) => env.sleep(ms),
      async sleepUntil(epochMs) {
        const current = await now();
        if (epochMs > current) await env.sleep(epochMs - current);
      },
      async firedTimers(workflowId) {
        const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
        return (history.events ?? []).filter((e) => e.timerFiredEventAttributes).length;
      },
      async pendingTimer(workflowId) {
        const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const done = new Set(events.flatMap((e) => [e.timerFiredEventAttributes?.startedEventId, e.timerCanceledEventAttributes?.startedEventId]).map(Number));
        const started = events.filter((e) => e.timerStartedEventAttributes && !done.has(Number(e.eventId))).at(-1);
        if (!started) return undefined;
        const { seconds, nanos } = started.timerStartedEventAttributes!.startToFireTimeout!;
        return tsToMs(started.eventTime!) + Number(seconds ?? 0) * 1000 + Math.round((nanos ?? 0) / 1e6);
      },
      async restartWorker(meanwhile) {
        if (!options.restartableWorkers) throw new Error('restartWorker needs a stack started with restartableWorkers');
        await stopWorker();
        try {
          await meanwhile();
        } finally {
          stopWorker = await startWorker();
        }
      },
      async onVirtualClock(fn) {
        const realNow = Date.now;
        const offset = (await now()) - realNow();
        Date.now = () => realNow() + offset;
        try {
          return await fn();
        } finally {
          Date.now = realNow;
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The SDK's own environment factory, which can attach time skipping to a server already running. */
type EnvironmentFactory = {
  create(opts: { server: { type: 'existing' }; address: string; namespace: string; supportsTimeSkipping: true; client: { dataConverter: typeof dataConverter } }): Promise<TestWorkflowEnvironment>;
};

/**
 * Starts the test server global-setup prepared, waits (up to a minute) until it listens, then attaches
 * a time-skipping environment to it. The SDK's own launcher gives the server 5 s, which a machine busy
 * with the rest of the suite can exceed; a JVM that starts slowly here only delays this file.
 */
async function startTestServer(): Promise<{ env: TestWorkflowEnvironment; stop(): Promise<void> }> {
  const wrapper = process.env.TEMPORAL_TEST_SERVER ?? (await ensureTemporalTestServer());
  const port = await freePort();
  const child = spawn(wrapper, [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  try {
    await waitForPort('the Temporal test server', port, child, 60_000);
    const env = await (TestWorkflowEnvironment as unknown as EnvironmentFactory).create({
      server: { type: 'existing' }, address: `127.0.0.1:${port}`, namespace: 'default', supportsTimeSkipping: true, client: { dataConverter },
    });
    return { env, stop };
  } catch (err) {
    await stop();
    throw new Error(`The Temporal test server (${wrapper}) did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Workflows upsert CooperativeId, MemberId and BusinessStatus; the test server refuses an upsert of an
 * attribute it does not know (the workflow task fails), so they are registered first, as on a real
 * namespace. The test server has AddSearchAttributes but not ListSearchAttributes.
 */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const { IndexedValueType } = temporal.api.enums.v1;
  const types = { Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } as const;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, types[type]])),
  });
}
