import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Config } from '../config/config';
import { STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId, type StreamSamplingInput, type StreamSamplingRun } from '../domain/stream-sampling';

/** Starts one cooperative's sampling run (or backfill) for an instant; true if this call started it. */
export type StartStreamSampling = (cooperativeId: string, instant: string, run?: StreamSamplingRun) => Promise<boolean>;

/**
 * Starts `stream-sampling:<cooperative>:<instant>` (or `stream-backfill:…`) by its registered type (activities do not load
 * workflow code). A run for the same instant that is running or completed is left alone, so a schedule
 * that fires twice starts one run; one that failed may be run again (a backfill, an operator's trigger).
 */
export function streamSamplingStarter(client: Client, config: Pick<Config, 'temporal' | 'deadLetter'>): StartStreamSampling {
  return async (cooperativeId, instant, run = 'sampling') => {
    const input: StreamSamplingInput = { cooperativeId, instant, deadLetterRetryDelaysMs: config.deadLetter.retryDelaysMs };
    try {
      await client.workflow.start(STREAM_SAMPLING_WORKFLOW_TYPE, {
        workflowId: streamSamplingWorkflowId(cooperativeId, instant, run),
        taskQueue: config.temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  };
}
