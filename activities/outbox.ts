import type { Pool } from 'pg';
import type { WakeDeliveries } from '../clients/webhook-delivery';
import { publishEvents } from '../db/outbox';
import { endpointsWithStalePending } from '../db/webhook-deliveries';

export interface OutboxDependencies {
  pool: Pool;
  wake: WakeDeliveries;
}

/** Events per publishing transaction. */
export const PUBLISH_BATCH = 500;
/** A delivery pending this long had its wake-up lost (or its workflow stopped): the sweep wakes its endpoint again. */
const STALE_AFTER_MS = 30_000;

export interface PublishResult {
  published: number;
  /** Committed events held back behind a transaction still running: publish again shortly. */
  waiting: boolean;
}

/**
 * Publishes every settled event of the outbox, a batch per transaction, and wakes the delivery
 * workflows of the endpoints each batch gave deliveries to. The one publishing path: the relay runs it
 * on every notification and the outbox sweep on its schedule.
 */
export function outboxPublisher(deps: OutboxDependencies): () => Promise<PublishResult> {
  return async () => {
    let published = 0;
    for (;;) {
      const batch = await publishEvents(deps.pool, PUBLISH_BATCH);
      published += batch.published;
      await deps.wake(batch.endpoints);
      if (batch.published < PUBLISH_BATCH) return { published, waiting: batch.waiting };
    }
  };
}

/**
 * The outbox sweep, for one scheduled instant (the `outbox-sweep` scheduled job): publishes what the
 * relay has not (no worker runs one, or a notification was lost) and wakes endpoints whose deliveries
 * were pending 30 s before the instant (a wake-up was lost, or a worker died between publishing and
 * waking). Safe to run at any time, and at the same time as the relay.
 */
export function outboxSweeper(deps: OutboxDependencies): (scheduledFor: Date) => Promise<{ published: number; woken: number }> {
  const publish = outboxPublisher(deps);
  return async (scheduledFor) => {
    const { published } = await publish();
    const stale = await endpointsWithStalePending(deps.pool, new Date(scheduledFor.getTime() - STALE_AFTER_MS));
    await deps.wake(stale);
    return { published, woken: stale.length };
  };
}
