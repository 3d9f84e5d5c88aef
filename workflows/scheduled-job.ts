import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ScheduledJobActivities } from '../activities/scheduled-jobs';
import type { ScheduledJob, ScheduledJobResult } from '../domain/scheduled-jobs';
import { BusinessStatus, CooperativeId } from './search-attributes';

/** Set by Temporal on every workflow a Schedule starts (a backfill included): the instant the run is for. */
const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ScheduledJobInput {
  job: ScheduledJob;
  /** The instant the run is for; defaults to the Schedule's scheduled time, or the start time of a manual run. */
  scheduledFor?: string;
  /** Expiry jobs only: an operator's run for one cooperative. */
  cooperativeId?: string;
}

// A failing job retries for a while and then fails the run, visibly in the Temporal UI; the next
// scheduled run (or an operator's trigger or backfill) does the work again. Jobs heartbeat as they go:
// a worker lost mid-job is noticed within a minute, not at the hour's end (runs skip while one is open).
const { runScheduledJob } = proxyActivities<ScheduledJobActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** One run of a recurring job (workers/schedules.ts): does the job for its scheduled instant. */
export async function scheduledJob(input: ScheduledJobInput): Promise<ScheduledJobResult> {
  const info = workflowInfo();
  const scheduledFor = input.scheduledFor ?? (info.typedSearchAttributes.get(TemporalScheduledStartTime) ?? info.startTime).toISOString();
  upsertSearchAttributes([{ key: BusinessStatus, value: 'running' }, ...(input.cooperativeId ? [{ key: CooperativeId, value: input.cooperativeId }] : [])]);
  const result = await runScheduledJob({ job: input.job, scheduledFor, cooperativeId: input.cooperativeId });
  upsertSearchAttributes([{ key: BusinessStatus, value: result.status }]);
  return result;
}
