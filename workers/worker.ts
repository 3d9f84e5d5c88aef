import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import { createActivities, type Activities, type ActivityDependencies } from '../activities';
import { dataConverter } from '../clients/data-converter';
import { chainConnector } from '../clients/chain';
import { streamRunStarters } from '../clients/stream-runs';
import { webhookDeliveryWaker } from '../clients/webhook-delivery';
import type { Config } from '../config/config';

/** What the activities are built from, the same in the worker process and in tests. */
export function activityDependencies(config: Config, clients: { pool: Pool; stripe: Stripe; temporal: Client }): ActivityDependencies {
  const streamRuns = streamRunStarters(clients.temporal, config);
  return {
    pool: clients.pool,
    stripe: clients.stripe,
    operations: config.operations,
    webhooks: config.webhooks,
    wake: webhookDeliveryWaker(clients.temporal, config),
    chain: chainConnector(config.chain),
    streams: config.streams,
    startStreamSampling: streamRuns.sampling,
    startStreamReconciliation: streamRuns.reconciliation,
  };
}

export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  /** What the activities are built from. */
  dependencies: ActivityDependencies;
  workflowBundle: WorkflowBundleOption;
  /** From the config (TEMPORAL_TASK_QUEUE): the one place the queue is named. */
  taskQueue: string;
  /** Replaces some activities: only for tests that inject a fault or an external answer. */
  activityOverrides?: Partial<Activities>;
  /**
   * Workflows kept in memory between tasks (the SDK's default when unset). Zero also means no sticky
   * queue: only for tests that restart workers on the time-skipping server, which never hands a gone
   * worker's sticky tasks back to the shared queue.
   */
  maxCachedWorkflows?: number;
}

/** The worker. On shutdown, running activities get time to finish. */
export function createWorker(deps: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    activities: { ...createActivities(deps.dependencies), ...deps.activityOverrides },
    dataConverter,
    shutdownGraceTime: '30 seconds',
    ...(deps.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: deps.maxCachedWorkflows }),
  });
}
