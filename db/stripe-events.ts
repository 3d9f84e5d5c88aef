import type { Pool } from 'pg';
import { inSystemTransaction } from './transaction';

/**
 * Records a Stripe event by its id, once (webhooks arrive without a tenant), with why it is not applied
 * (`problem`, null once it is). Every delivery links the event to its purchase if it was found this
 * time and sets the problem again. Returns whether it still needs to be signalled (true for a linked
 * event whose signal never went through, so a Stripe retry is not lost).
 */
export function recordStripeEvent(
  pool: Pool,
  event: { id: string; type: string; purchaseId: string | null; payload: unknown; problem?: string },
): Promise<{ needsSignal: boolean }> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<{ signalled_at: Date | null; purchase_id: string | null }>(
      `INSERT INTO stripe_events (id, type, purchase_id, payload, problem) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET purchase_id = COALESCE(stripe_events.purchase_id, EXCLUDED.purchase_id),
                                      problem = CASE WHEN COALESCE(stripe_events.purchase_id, EXCLUDED.purchase_id) IS NULL THEN EXCLUDED.problem END
       RETURNING signalled_at, purchase_id`,
      [event.id, event.type, event.purchaseId, JSON.stringify(event.payload), event.problem ?? null],
    );
    return { needsSignal: rows[0]!.purchase_id !== null && rows[0]!.signalled_at === null };
  });
}

export async function markStripeEventSignalled(pool: Pool, id: string): Promise<void> {
  await inSystemTransaction(pool, (client) => client.query('UPDATE stripe_events SET signalled_at = now() WHERE id = $1 AND signalled_at IS NULL', [id]));
}
