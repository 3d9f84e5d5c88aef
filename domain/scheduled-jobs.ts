/**
 * The recurring jobs Temporal Schedules run (workers/schedules.ts says when). Each run is one
 * `scheduledJob` workflow doing its job for the run's scheduled instant, so the same instant done twice
 * (a retry, a backfill) does the same thing once.
 */
export const SCHEDULED_JOBS = ['hold-expiry', 'lot-expiry', 'outbox-sweep', 'event-retention', 'ledger-reconciliation', 'stream-sampling', 'stream-reconciliation', 'stream-backfill'] as const;
export type ScheduledJob = (typeof SCHEDULED_JOBS)[number];

/** What a run did: `status` becomes the run's BusinessStatus in the Temporal UI. */
export interface ScheduledJobResult {
  status: 'completed' | 'passed' | 'failed';
  detail: Record<string, string | number | boolean | string[]>;
}
