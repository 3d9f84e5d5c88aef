import type { Pool } from 'pg';

/**
 * Records a Stripe event by its id, once. Returns whether it still needs to be signalled: true for a
 * new event, and for one recorded earlier whose signal never went through (so a Stripe retry is not lost).
 */
export async function recordStripeEvent(pool: Pool, event: { id: string; type: string; purchaseId: string | null; payload: unknown }): Promise<{ needsSignal: boolean }> {
  // An event first recorded before its purchase could be found is linked when Stripe retries it.
  await pool.query(
    `INSERT INTO stripe_events (id, type, purchase_id, payload) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET purchase_id = COALESCE(stripe_events.purchase_id, EXCLUDED.purchase_id)`,
    [
      event.id, event.type, event.purchaseId, JSON.stringify(event.payload),
    ],
  );
  const { rows } = await pool.query<{ signalled_at: Date | null; purchase_id: string | null }>('SELECT signalled_at, purchase_id FROM stripe_events WHERE id = $1', [event.id]);
  return { needsSignal: rows[0]!.purchase_id !== null && rows[0]!.signalled_at === null };
}

export async function markStripeEventSignalled(pool: Pool, id: string): Promise<void> {
  await pool.query('UPDATE stripe_events SET signalled_at = now() WHERE id = $1 AND signalled_at IS NULL', [id]);
}
