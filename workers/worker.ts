import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { dataConverter } from './data-converter';
import { TASK_QUEUES } from './task-queues';

export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  workflowBundle: WorkflowBundleOption;
  taskQueue?: string;
}

/** The worker for the main task queue. On shutdown, running activities get time to finish. */
export function createWorker(deps: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue ?? TASK_QUEUES.main,
    workflowBundle: deps.workflowBundle,
    activities: createActivities({ pool: deps.pool }),
    dataConverter,
    shutdownGraceTime: '30 seconds',
  });
}
