import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../clients/temporal';
import { createStripeClient } from '../clients/stripe';
import { createPool } from '../db/pool';
import { bundleWorkflows } from './bundle';
import { installWorkerRuntime } from './runtime';
import { ensureSearchAttributes } from './search-attributes';
import { createWorker } from './worker';

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
    const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, pool, stripe, workflowBundle });
    log.info({ taskQueue: worker.options.taskQueue, namespace: config.temporal.namespace }, 'worker started');
    await worker.run();
    log.info('worker stopped');
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
