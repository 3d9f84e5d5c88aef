import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { EndpointRef, OutboxEvent } from '../domain/webhooks';
import { readEvent } from './outbox';
import type { SecretBox } from './secret-box';
import { inSystemTransaction, inTenantTransaction } from './transaction';
import { signingSecrets } from './webhook-endpoints';

/**
 * Deliveries of events to webhook endpoints, one per (endpoint, event), written when the outbox is
 * published (db/outbox.ts) and worked through by each endpoint's delivery workflow. Ids travel as
 * decimal strings: they pass through workflow payloads and dead-letter payloads as JSON.
 */
/** The next pending deliveries of an active endpoint, in the order they go out: their events' (xid, id). */
export function pendingDeliveries(pool: Pool, ref: EndpointRef, limit: number): Promise<string[]> {
  return inTenantTransaction(pool, ref.cooperativeId, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT d.id::text AS id FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'active'
         JOIN outbox o ON o.id = d.outbox_id
        WHERE d.endpoint_id = $1 AND d.status = 'pending'
        ORDER BY o.xid, o.id LIMIT $2`,
      [ref.endpointId, limit],
    );
    return rows.map((r) => r.id);
  });
}

/** What an attempt sends: its number (every attempt counts, dead-letter retries too), where, signed with what. */
export type DeliveryAttempt =
  | { kind: 'send'; attempt: number; url: string; secrets: string[]; event: OutboxEvent }
  | { kind: 'delivered' }
  | { kind: 'endpoint_disabled' };

/** Counts an attempt at a delivery and returns what to send; nothing when it is delivered already or its endpoint is disabled. */
export function startAttempt(pool: Pool, box: SecretBox, cooperativeId: string, deliveryId: string): Promise<DeliveryAttempt> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ attempts: number; outbox_id: bigint; endpoint_id: string; url: string }>(
      `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now()
         FROM webhook_endpoints e
        WHERE d.id = $1 AND e.id = d.endpoint_id AND d.status <> 'delivered' AND e.status = 'active'
        RETURNING d.attempts, d.outbox_id, e.id AS endpoint_id, e.url`,
      [deliveryId],
    );
    const row = rows[0];
    if (!row) {
      const { rows: found } = await client.query<{ status: string }>('SELECT status FROM webhook_deliveries WHERE id = $1', [deliveryId]);
      if (!found[0]) throw new BusinessError('NOT_FOUND', `webhook delivery ${deliveryId} does not exist`);
      return found[0].status === 'delivered' ? { kind: 'delivered' } : { kind: 'endpoint_disabled' };
    }
    const event = (await readEvent(client, row.outbox_id))!;
    return { kind: 'send', attempt: row.attempts, url: row.url, secrets: await signingSecrets(client, box, row.endpoint_id), event };
  });
}

const MAX_ERROR = 1000;

export function recordDelivered(pool: Pool, cooperativeId: string, deliveryId: string): Promise<void> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query(`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now() WHERE id = $1 AND status <> 'delivered'`, [deliveryId]);
  });
}

export function recordFailedAttempt(pool: Pool, cooperativeId: string, deliveryId: string, error: string): Promise<void> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query('UPDATE webhook_deliveries SET last_error = $2 WHERE id = $1', [deliveryId, error.slice(0, MAX_ERROR)]);
  });
}

/** A delivery whose retries are exhausted goes to the dead-letter queue; its endpoint's later deliveries go on. */
export function markDeadLettered(pool: Pool, cooperativeId: string, deliveryId: string): Promise<void> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query(`UPDATE webhook_deliveries SET status = 'dead_lettered' WHERE id = $1 AND status = 'pending'`, [deliveryId]);
  });
}

/** Active endpoints with a delivery pending for longer than `olderThanMs`: their workflow was not woken, or has stopped. */
export function endpointsWithStalePending(pool: Pool, createdBefore: Date): Promise<EndpointRef[]> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<EndpointRef>(
      `SELECT DISTINCT d.endpoint_id AS "endpointId", d.cooperative_id AS "cooperativeId" FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'active'
        WHERE d.status = 'pending' AND d.created_at < $1`,
      [createdBefore],
    );
    return rows;
  });
}
