import type { Pool } from 'pg';
import { inSystemTransaction } from './transaction';

/**
 * Deletes published outbox events created before `before`, a batch at a time (each batch its own
 * short transaction, so the job never holds locks for long). Returns how many went. Unpublished events,
 * and events with a webhook delivery not yet delivered (pending, or waiting in the dead-letter queue),
 * are never deleted: they still have to be delivered.
 */
export async function pruneEvents(pool: Pool, before: Date, onBatch: () => void = () => {}, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await inSystemTransaction(pool, (client) =>
      client.query(
        `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox o WHERE published_at IS NOT NULL AND created_at < $1
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = o.id AND d.status <> 'delivered')
           ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [before, batchSize],
      ),
    );
    total += rowCount ?? 0;
    onBatch();
    if ((rowCount ?? 0) < batchSize) return total;
  }
}
