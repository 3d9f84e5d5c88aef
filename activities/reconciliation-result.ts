import { metricMeter } from '@temporalio/activity';
import type { ReconciliationOutcome } from '../db/reconciliations';
import type { ScheduledJobResult } from '../domain/scheduled-jobs';

/**
 * A reconciliation run as a run's result (its status becomes the BusinessStatus), counted in the
 * worker's metrics the first time it finishes: `reconciliation_runs{kind,status}` and
 * `reconciliation_findings{kind}`.
 */
export function countedReconciliation({ run, alerted, replayed }: ReconciliationOutcome): ScheduledJobResult {
  if (!replayed) {
    metricMeter.createCounter('reconciliation_runs', 'runs', 'Finished reconciliation runs, by kind and result').add(1, { kind: run.kind, status: run.status });
    metricMeter.createCounter('reconciliation_findings', 'findings', 'Findings of reconciliation runs, by kind').add(run.findingCount, { kind: run.kind });
  }
  return {
    status: run.status === 'passed' ? 'passed' : 'failed',
    detail: { runId: run.id, findings: run.findingCount, failedChecks: run.checks.filter((c) => !c.passed).map((c) => c.name), alerted },
  };
}
