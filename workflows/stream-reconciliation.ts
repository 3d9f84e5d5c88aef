import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { StreamReconciliationActivities } from '../activities/stream-reconciliation';
import type { ScheduledJobResult } from '../domain/scheduled-jobs';
import type { StreamReconciliationInput } from '../domain/stream-reconciliation';
import { BusinessStatus, CooperativeId } from './search-attributes';

// Reading the chain can fail for a while (a node restarting): retried, then the run fails visibly and the
// next day's run (or an operator's trigger) reconciles again.
const { reconcileCooperativeStreams } = proxyActivities<StreamReconciliationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/**
 * `stream-reconciliation:<cooperative>:<instant>`: one cooperative's daily stream reconciliation
 * (activities/stream-reconciliation.ts), found in the Temporal UI by CooperativeId and BusinessStatus
 * (`passed` or `failed`, with the run's findings readable at /v1/operations/reconciliations).
 */
export async function streamReconciliation(input: StreamReconciliationInput): Promise<ScheduledJobResult> {
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: 'running' }]);
  const result = await reconcileCooperativeStreams(input);
  upsertSearchAttributes([{ key: BusinessStatus, value: result.status }]);
  return result;
}
