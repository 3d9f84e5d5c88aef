import { heartbeat, log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { ScheduledJob, ScheduledJobResult } from '../domain/scheduled-jobs';
import type { StartStreamReconciliation, StartStreamSampling } from '../clients/stream-runs';
import { cooperativeIds } from '../db/cooperatives';
import { cooperativesWithStreams, streamsWithBookings } from '../db/streams';
import { dueInstants } from '../domain/sampling-instants';
import { expireDueHolds, expireDueLots } from '../db/ledger';
import { reconcileLedger } from '../db/reconciliations';
import { pruneEvents } from '../db/retention';
import { asActivity } from './business-failure';
import { countedReconciliation } from './reconciliation-result';

export interface ScheduledJobDependencies {
  pool: Pool;
  /** Published events older than this are deleted by the event-retention job. */
  eventRetentionDays: number;
  /** The outbox's safety net (activities/outbox.ts). */
  sweepOutbox: (scheduledFor: Date) => Promise<{ published: number; woken: number }>;
  /** Starts a cooperative's sampling run for an instant (clients/stream-sampling.ts). */
  startStreamSampling: StartStreamSampling;
  /** Starts a cooperative's stream reconciliation for an instant. */
  startStreamReconciliation: StartStreamReconciliation;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How far ahead of this worker's clock a scheduled instant may be: the Temporal server's clock may run slightly ahead. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The work of each scheduled job, for one scheduled instant. Every job is idempotent by that instant:
 * expiry takes what was due at it, retention deletes what was old at it, and the reconciliation is
 * stored under it.
 */
export function createScheduledJobActivities(deps: ScheduledJobDependencies) {
  const { pool } = deps;

  /**
   * Runs `work` for every cooperative (or the one named), in its own scope, heartbeating between them.
   * One cooperative that fails (a wallet a bug broke) does not hold the others back: the run reports it
   * as failed, and the next run tries it again.
   */
  async function eachCooperative(only: string | undefined, work: (cooperativeId: string) => Promise<number>): Promise<ScheduledJobResult> {
    let expired = 0;
    const failed: string[] = [];
    for (const cooperativeId of only ? [only] : await cooperativeIds(pool)) {
      try {
        expired += await work(cooperativeId);
      } catch (err) {
        if (only) throw err;
        failed.push(cooperativeId);
        log.warn('expiry failed for a cooperative', { cooperativeId, error: err instanceof Error ? err.message : String(err) });
      }
      heartbeat();
    }
    return failed.length === 0 ? { status: 'completed', detail: { expired } } : { status: 'failed', detail: { expired, failedCooperatives: failed } };
  }

  /** Starts a run of the cooperatives' own for each; a run already started for the instant is not started again. */
  async function eachStreamCooperative(cooperatives: string[] | Promise<string[]>, start: (cooperativeId: string) => Promise<boolean>): Promise<ScheduledJobResult> {
    const all = await cooperatives;
    let started = 0;
    for (const cooperativeId of all) {
      if (await start(cooperativeId)) started++;
      heartbeat();
    }
    return { status: 'completed', detail: { cooperatives: all.length, started } };
  }

  /** A job that spans the network refuses to be narrowed to one cooperative rather than quietly doing it all. */
  const networkWide = (only: string | undefined) => {
    if (only) throw new BusinessError('VALIDATION_ERROR', 'this job runs for the whole network, not one cooperative');
  };

  const jobs: Record<ScheduledJob, (scheduledFor: Date, only: string | undefined) => Promise<ScheduledJobResult>> = {
    'hold-expiry': (asOf, only) => eachCooperative(only, async (c) => (await expireDueHolds(pool, c, asOf)).length),
    'lot-expiry': (asOf, only) => eachCooperative(only, async (c) => (await expireDueLots(pool, c, asOf)).length),
    'event-retention': async (asOf, only) => {
      networkWide(only);
      const before = new Date(asOf.getTime() - deps.eventRetentionDays * DAY_MS);
      return { status: 'completed', detail: { deleted: await pruneEvents(pool, before, heartbeat), before: before.toISOString() } };
    },
    'outbox-sweep': async (asOf, only) => {
      networkWide(only);
      const swept = await deps.sweepOutbox(asOf);
      heartbeat();
      return { status: 'completed', detail: swept };
    },
    'ledger-reconciliation': async (asOf, only) => {
      networkWide(only);
      return countedReconciliation(await reconcileLedger(pool, asOf, heartbeat));
    },
    // After midnight's samples: each cooperative's streams against the chain, in a run of its own
    // (stream-reconciliation:<cooperative>:<instant>), found by CooperativeId and BusinessStatus.
    'stream-reconciliation': (asOf, only) => eachStreamCooperative(only ? [only] : cooperativesWithStreams(pool, 'any'), (c) => deps.startStreamReconciliation(c, asOf.toISOString())),
    // The weekly gap finder: streams with an instant due over an hour ago and not sampled (runs that were
    // skipped or failed, a schedule paused, an interval left unpriced) get a backfill run per cooperative,
    // which samples each missed instant in order.
    'stream-backfill': async (asOf, only) => {
      const overdue = new Date(asOf.getTime() - HOUR_MS);
      const behind = (await streamsWithBookings(pool, only)).filter((s) => s.status === 'active' && dueInstants(s.samplingInterval, new Date(s.sampledUntil.at), overdue, 1).length > 0);
      const result = await eachStreamCooperative([...new Set(behind.map((s) => s.cooperativeId))], (c) => deps.startStreamSampling(c, asOf.toISOString(), 'backfill'));
      return { status: 'completed', detail: { ...result.detail, streamsBehind: behind.length, streams: behind.slice(0, 100).map((s) => s.id) } };
    },
    // Each cooperative's run is a workflow of its own (stream-sampling:<cooperative>:<instant>), found by
    // CooperativeId, which samples and hands failed samples to the dead-letter queue.
    'stream-sampling': (asOf, only) => eachStreamCooperative(only ? [only] : cooperativesWithStreams(pool, 'active'), (c) => deps.startStreamSampling(c, asOf.toISOString())),
  };

  return {
    runScheduledJob(input: { job: ScheduledJob; scheduledFor: string; cooperativeId?: string }): Promise<ScheduledJobResult> {
      return asActivity(() => {
        const scheduledFor = new Date(input.scheduledFor);
        // A run for an instant still to come would expire credits before they are due.
        if (Number.isNaN(scheduledFor.getTime()) || scheduledFor.getTime() > Date.now() + CLOCK_SKEW_MS) {
          throw new BusinessError('VALIDATION_ERROR', `a run is for an instant that has come (got ${input.scheduledFor})`);
        }
        return jobs[input.job](scheduledFor, input.cooperativeId);
      });
    },
  };
}

export type ScheduledJobActivities = ReturnType<typeof createScheduledJobActivities>;
