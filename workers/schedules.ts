import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ScheduledJob } from '../domain/scheduled-jobs';
import type { ScheduledJobInput } from '../workflows/scheduled-job';

export interface ScheduleDefinition {
  /** The schedule id, and the prefix of every run's workflow id (Temporal appends the scheduled time). */
  id: string;
  job: ScheduledJob;
  spec: ScheduleOptions['spec'];
  overlap: ScheduleOverlapPolicy;
  /** How late a missed run (Temporal down at its time) may still start; older ones are skipped. */
  catchupWindow: string;
}

/**
 * Every recurring job, in UTC. Runs never overlap: a run still going when the next is due makes the next
 * one skip, which is harmless because each run does all that is due at its instant.
 */
export const SCHEDULES: readonly ScheduleDefinition[] = [
  // Expired holds give their credits back within a minute.
  { id: 'hold-expiry', job: 'hold-expiry', spec: { intervals: [{ every: '1 minute' }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '5 minutes' },
  // The relay publishes within milliseconds; this bounds the delay when it did not (decision 0015).
  { id: 'outbox-sweep', job: 'outbox-sweep', spec: { intervals: [{ every: '1 minute' }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '5 minutes' },
  { id: 'lot-expiry', job: 'lot-expiry', spec: { intervals: [{ every: '1 hour' }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  { id: 'event-retention', job: 'event-retention', spec: { calendars: [{ hour: 3, minute: 0 }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  // After midnight's activity has settled; a day missed while Temporal was down still runs once.
  { id: 'ledger-reconciliation', job: 'ledger-reconciliation', spec: { calendars: [{ hour: 0, minute: 30 }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  // On the hour, for hourly streams; the 00:00 UTC run is the daily sample (and Monday's the weekly one).
  // A run only starts each cooperative's sampling workflow, so runs never pile up; a skipped or missed
  // one is caught up by the next, which samples each stream at every instant it missed.
  { id: 'stream-sampling', job: 'stream-sampling', spec: { intervals: [{ every: '1 hour' }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  // After the 00:00 samples are posted (the chain must have reached 00:00 first).
  { id: 'stream-reconciliation', job: 'stream-reconciliation', spec: { calendars: [{ hour: 1, minute: 0 }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  // Weekly, Monday 03:30: gaps a week of runs left behind are backfilled.
  { id: 'stream-backfill', job: 'stream-backfill', spec: { calendars: [{ dayOfWeek: 'MONDAY', hour: 3, minute: 30 }] }, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days' },
];

/** What a schedule does, as created: the fingerprint of it goes in the action's memo so a changed definition is noticed. */
function scheduleOptions(def: ScheduleDefinition, taskQueue: string) {
  const input: ScheduledJobInput = { job: def.job };
  const desired = {
    spec: def.spec,
    action: { type: 'startWorkflow' as const, workflowType: 'scheduledJob', workflowId: def.id, taskQueue, args: [input] },
    policies: { overlap: def.overlap, catchupWindow: def.catchupWindow },
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(desired)).digest('hex').slice(0, 16);
  return { ...desired, action: { ...desired.action, memo: { scheduleDefinition: fingerprint } }, fingerprint };
}

/**
 * Creates every schedule, or updates one whose definition changed; leaves an unchanged one alone.
 * Idempotent, so every worker runs it at start. An operator's pause survives: only the spec, action and
 * policies are replaced.
 */
export async function ensureSchedules(client: Client, taskQueue: string, log?: Logger, schedules: readonly ScheduleDefinition[] = SCHEDULES): Promise<void> {
  for (const def of schedules) {
    const { fingerprint, ...options } = scheduleOptions(def, taskQueue);
    try {
      await client.schedule.create({ scheduleId: def.id, ...options });
      log?.info({ scheduleId: def.id }, 'schedule created');
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      const handle = client.schedule.getHandle(def.id);
      const current = await handle.describe();
      if (current.action.memo?.scheduleDefinition === fingerprint) continue;
      await handle.update((previous) => ({ ...previous, ...options }));
      log?.info({ scheduleId: def.id }, 'schedule updated to its new definition');
    }
  }
}
