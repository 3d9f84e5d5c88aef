import { heartbeat, log, metricMeter } from '@temporalio/activity';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { ScheduledJob, ScheduledJobResult } from '../domain/scheduled-jobs';
import type { StartStreamSampling } from '../clients/stream-sampling';
import { cooperativeIds } from '../db/cooperatives';
import type { ReconciliationOutcome } from '../db/reconciliations';
import { cooperativesWithActiveStreams, streamsOfNetwork } from '../db/streams';
import { dueInstants } from '../domain/sampling-instants';
import { expireDueHolds, expireDueLots } from '../db/ledger';
import { reconcileLedger } from '../db/reconciliations';
import { pruneEvents } from '../db/retention';
import { asActivity } from './business-failure';

export interface ScheduledJobDependencies {
  pool: Pool;
  /** Published events older than this are deleted by the event-retention job. */
  eventRetentionDays: number;
  /** The outbox's safety net (activities/outbox.ts). */
  sweepOutbox: (scheduledFor: Date) => Promise<{ published: number; woken: number }>;
  /** Starts a cooperative's sampling run for an instant (clients/stream-sampling.ts). */
  startStreamSampling: StartStreamSampling;
  /** The daily stream reconciliation for an instant (activities/stream-reconciliation.ts). */
  reconcileStreams: (scheduledFor: Date, onProgress: () => void) => Promise<ReconciliationOutcome>;
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

  /** A reconciliation run as the job's result, counted in the worker's metrics the first time it finishes. */
  function reconciliationResult({ run, alerted, replayed }: ReconciliationOutcome): ScheduledJobResult {
    if (!replayed) {
      metricMeter.createCounter('reconciliation_runs', 'runs', 'Finished reconciliation runs, by kind and result').add(1, { kind: run.kind, status: run.status });
      metricMeter.createCounter('reconciliation_findings', 'findings', 'Findings of reconciliation runs, by kind').add(run.findingCount, { kind: run.kind });
    }
    return {
      status: run.status === 'passed' ? 'passed' : 'failed',
      detail: { runId: run.id, findings: run.findingCount, failedChecks: run.checks.filter((c) => !c.passed).map((c) => c.name), alerted },
    };
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
      return reconciliationResult(await reconcileLedger(pool, asOf, heartbeat));
    },
    // After midnight's samples: the chain against the books, per sample and per cooperative account.
    'stream-reconciliation': async (asOf, only) => {
      networkWide(only);
      return reconciliationResult(await deps.reconcileStreams(asOf, heartbeat));
    },
    // The weekly gap finder: streams with an instant due over an hour ago and not sampled (runs that were
    // skipped or failed, a schedule paused, an interval left unpriced) get a backfill run per cooperative,
    // which samples each missed instant in order.
    'stream-backfill': async (asOf, only) => {
      const overdue = new Date(asOf.getTime() - HOUR_MS);
      const behind = (await streamsOfNetwork(pool)).filter(
        (s) => s.status === 'active' && (!only || s.cooperativeId === only) && dueInstants(s.samplingInterval, new Date(s.sampledUntil.at), overdue, 1).length > 0,
      );
      const cooperatives = [...new Set(behind.map((s) => s.cooperativeId))];
      let started = 0;
      for (const cooperativeId of cooperatives) {
        if (await deps.startStreamSampling(cooperativeId, asOf.toISOString(), 'backfill')) started++;
        heartbeat();
      }
      return { status: 'completed', detail: { streamsBehind: behind.length, cooperatives: cooperatives.length, started, streams: behind.slice(0, 100).map((s) => s.id) } };
    },
    // Each cooperative's run is a workflow of its own (stream-sampling:<cooperative>:<instant>), found by
    // CooperativeId, which samples and hands failed samples to the dead-letter queue.
    'stream-sampling': async (asOf, only) => {
      const instant = asOf.toISOString();
      let started = 0;
      const cooperatives = only ? [only] : await cooperativesWithActiveStreams(pool);
      for (const cooperativeId of cooperatives) {
        if (await deps.startStreamSampling(cooperativeId, instant)) started++;
        heartbeat();
      }
      return { status: 'completed', detail: { cooperatives: cooperatives.length, started } };
    },
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
