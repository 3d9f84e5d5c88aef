import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { OutboxActivities } from '../activities/outbox';
import { BusinessStatus } from './search-attributes';

export interface OutboxSweepInput {
  /** A delivery pending longer than this has its endpoint woken again (default 30 s). */
  staleAfterMs?: number;
}

const { sweepOutbox } = proxyActivities<OutboxActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * The outbox's safety net, run by a Temporal Schedule every minute: publishes what the relay's
 * LISTEN path missed and wakes endpoints whose deliveries have waited too long (a wake-up Temporal did
 * not take, a worker that died between publishing and waking). The relay stays the fast path; this only
 * bounds the delay when it fails.
 */
export async function outboxSweep(input: OutboxSweepInput = {}): Promise<{ published: number; woken: number }> {
  upsertSearchAttributes([{ key: BusinessStatus, value: 'running' }]);
  const result = await sweepOutbox({ staleAfterMs: input.staleAfterMs });
  upsertSearchAttributes([{ key: BusinessStatus, value: 'completed' }]);
  return result;
}
