import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Config } from '../config/config';
import { STREAM_RECONCILIATION_WORKFLOW_TYPE, streamReconciliationWorkflowId, type StreamReconciliationInput } from '../domain/stream-reconciliation';
import { STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId, type StreamSamplingInput, type StreamSamplingRun } from '../domain/stream-sampling';

/** Starts one cooperative's sampling run (or backfill) for an instant; true if this call started it. */
export type StartStreamSampling = (cooperativeId: string, instant: string, run?: StreamSamplingRun) => Promise<boolean>;
/** Starts one cooperative's stream reconciliation for an instant; true if this call started it. */
export type StartStreamReconciliation = (cooperativeId: string, instant: string) => Promise<boolean>;

/**
 * The runs stream accounting starts per cooperative (`stream-sampling:…`, `stream-backfill:…`,
 * `stream-reconciliation:<cooperative>:<instant>`), by their registered types: the scheduled jobs start
 * them, and activities do not load workflow code. A run for the same instant that is running or
 * completed is left alone, so a schedule that fires twice starts one run; one that failed may be run
 * again (a backfill, an operator's trigger).
 */
export function streamRunStarters(client: Client, config: Pick<Config, 'temporal' | 'deadLetter'>): { sampling: StartStreamSampling; reconciliation: StartStreamReconciliation } {
  const start = async (workflowType: string, workflowId: string, input: StreamSamplingInput | StreamReconciliationInput) => {
    try {
      await client.workflow.start(workflowType, { workflowId, taskQueue: config.temporal.taskQueue, args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  };
  return {
    sampling: (cooperativeId, instant, run = 'sampling') =>
      start(STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId(cooperativeId, instant, run), { cooperativeId, instant, deadLetterRetryDelaysMs: config.deadLetter.retryDelaysMs }),
    reconciliation: (cooperativeId, instant) => start(STREAM_RECONCILIATION_WORKFLOW_TYPE, streamReconciliationWorkflowId(cooperativeId, instant), { cooperativeId, instant }),
  };
}
