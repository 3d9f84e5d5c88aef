import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../config/config';
import { connectTemporalClient, temporalConnectionOptions } from '../clients/temporal';
import { createStripeClient } from '../clients/stripe';
import { createPool } from '../db/pool';
import { outboxPublisher } from '../activities/outbox';
import { bundleWorkflows } from './bundle';
import { startOutboxRelay } from './outbox-relay';
import { installWorkerRuntime } from './runtime';
import { ensureSchedules } from './schedules';
import { ensureSearchAttributes } from './search-attributes';
import { activityDependencies, createWorker } from './worker';

/** Worker process entry point. SIGINT/SIGTERM stop polling and let running activities finish. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { service: 'worker' } });
  installWorkerRuntime(log, config.worker.metricsPort);
  const connectionOptions = temporalConnectionOptions(config.temporal);

  if (config.temporal.external) {
    const client = await Connection.connect(connectionOptions);
    await ensureSearchAttributes(client, config.temporal.namespace).catch((err: unknown) =>
      log.warn({ err }, 'could not register search attributes; register CooperativeId, MemberId and BusinessStatus (Keyword) on the namespace yourself'),
    );
    await client.close();
  }

  const pool = createPool(config.database.url, { max: config.database.poolMax });
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const workflowBundle = config.worker.workflowBundlePath ? { codePath: config.worker.workflowBundlePath } : await bundleWorkflows();
    const stripe = createStripeClient(config.stripe);
    // The client manages the schedules, and signals webhook delivery workflows for the relay and the activities.
    const { client, connection: clientConnection } = await connectTemporalClient(config.temporal);
    try {
      // Schedules are the only scheduler (no timers in processes): every worker makes sure they exist as defined.
      try {
        if (config.worker.schedules) await ensureSchedules(client, config.temporal.taskQueue, log);
      } catch (err) {
        throw new Error(`could not create or update the Temporal Schedules (${err instanceof Error ? err.message : String(err)}); check that this worker may manage schedules in namespace ${config.temporal.namespace}`);
      }
      const dependencies = activityDependencies(config, { pool, stripe, temporal: client });
      const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, dependencies, workflowBundle });
      const relay = config.worker.outboxRelay ? startOutboxRelay({ databaseUrl: config.database.url, publish: outboxPublisher(dependencies), log }) : undefined;
      log.info({ taskQueue: worker.options.taskQueue, namespace: config.temporal.namespace }, 'worker started');
      try {
        await worker.run();
      } finally {
        await relay?.stop();
      }
      log.info('worker stopped');
    } finally {
      await clientConnection.close();
    }
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
