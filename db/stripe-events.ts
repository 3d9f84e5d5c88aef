import type { Pool } from 'pg';
import { inSystemTransaction } from './transaction';

/**
 * Records a Stripe event by its id, once (webhooks arrive without a tenant). Returns whether it still
 * needs to be signalled: true for a new event, and for one recorded earlier whose signal never went
 * through (so a Stripe retry is not lost).
 */
export function recordStripeEvent(pool: Pool, event: { id: string; type: string; purchaseId: string | null; payload: unknown }): Promise<{ needsSignal: boolean }> {
  return inSystemTransaction(pool, async (client) => {
    // An event first recorded before its purchase could be found is linked when Stripe retries it.
    const { rows } = await client.query<{ signalled_at: Date | null; purchase_id: string | null }>(
      `INSERT INTO stripe_events (id, type, purchase_id, payload) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET purchase_id = COALESCE(stripe_events.purchase_id, EXCLUDED.purchase_id)
       RETURNING signalled_at, purchase_id`,
      [event.id, event.type, event.purchaseId, JSON.stringify(event.payload)],
    );
    return { needsSignal: rows[0]!.purchase_id !== null && rows[0]!.signalled_at === null };
  });
}

export async function markStripeEventSignalled(pool: Pool, id: string): Promise<void> {
  await inSystemTransaction(pool, (client) => client.query('UPDATE stripe_events SET signalled_at = now() WHERE id = $1 AND signalled_at IS NULL', [id]));
}
