import { heartbeat, metricMeter } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { ScheduledJob, ScheduledJobResult } from '../domain/scheduled-jobs';
import { cooperativeIds } from '../db/cooperatives';
import { expireDueHolds, expireDueLots } from '../db/ledger';
import { reconcileLedger } from '../db/reconciliations';
import { pruneEvents } from '../db/retention';

export interface ScheduledJobDependencies {
  pool: Pool;
  /** Published events older than this are deleted by the event-retention job. */
  eventRetentionDays: number;
}

const DAY_MS = 86_400_000;

/**
 * The work of each scheduled job, for one scheduled instant. Every job is idempotent by that instant:
 * expiry takes what was due at it, retention deletes what was old at it, and the reconciliation is
 * stored under it.
 */
export function createScheduledJobActivities(deps: ScheduledJobDependencies) {
  const { pool } = deps;

  /** Runs `work` for every cooperative, in its own scope, heartbeating between them. */
  async function eachCooperative(work: (cooperativeId: string) => Promise<number>): Promise<number> {
    let total = 0;
    for (const cooperativeId of await cooperativeIds(pool)) {
      total += await work(cooperativeId);
      heartbeat();
    }
    return total;
  }

  const jobs: Record<ScheduledJob, (scheduledFor: Date) => Promise<ScheduledJobResult>> = {
    'hold-expiry': async (asOf) => ({ status: 'completed', detail: { expired: await eachCooperative(async (c) => (await expireDueHolds(pool, c, asOf)).length) } }),
    'lot-expiry': async (asOf) => ({ status: 'completed', detail: { expired: await eachCooperative(async (c) => (await expireDueLots(pool, c, asOf)).length) } }),
    'event-retention': async (asOf) => {
      const before = new Date(asOf.getTime() - deps.eventRetentionDays * DAY_MS);
      return { status: 'completed', detail: { deleted: await pruneEvents(pool, before, heartbeat), before: before.toISOString() } };
    },
    'ledger-reconciliation': async (asOf) => {
      const { run, alerted, replayed } = await reconcileLedger(pool, asOf);
      if (!replayed) {
        metricMeter.createCounter('reconciliation_runs', 'runs', 'Finished reconciliation runs, by kind and result').add(1, { kind: run.kind, status: run.status });
        metricMeter.createCounter('reconciliation_findings', 'findings', 'Findings of reconciliation runs, by kind').add(run.findingCount, { kind: run.kind });
      }
      return {
        status: run.status === 'passed' ? 'passed' : 'failed',
        detail: { runId: run.id, findings: run.findingCount, failedChecks: run.checks.filter((c) => !c.passed).map((c) => c.name), alerted },
      };
    },
  };

  return {
    runScheduledJob(input: { job: ScheduledJob; scheduledFor: string }): Promise<ScheduledJobResult> {
      return jobs[input.job](new Date(input.scheduledFor));
    },
  };
}

export type ScheduledJobActivities = ReturnType<typeof createScheduledJobActivities>;
