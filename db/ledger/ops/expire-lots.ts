import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { LotCategory } from '../../../domain/lots';
import { formatMicros } from '../../../domain/money';
import { lockAccounts } from '../accounts';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { inTenantTransaction } from '../../transaction';
import { resolveRetireAccounts, retirePostings } from './retire';

/**
 * Expires what is still available in one lot past its expiry, as a ledger transaction (breakage),
 * never silently. Keyed by lot and run time: credits a released hold later returns to an expired lot
 * are expired by the next run.
 */
class NothingToExpire extends Error {}

async function expireLot(pool: Pool, cooperativeId: string, lotId: string, asOf: Date): Promise<LedgerResult | undefined> {
  const key = `lot-expiry:${lotId}:${asOf.toISOString()}`;
  const result = runIdempotent(pool, cooperativeId, 'expire-lot', key, { lotId, asOf }, { accounts: [] }, async ({ client, idempotencyKey, requestHash, write }) => {
    const { rows: found } = await client.query<{ member_id: string }>('SELECT member_id FROM lots WHERE id = $1', [lotId]);
    if (!found[0]) throw new Error(`lot ${lotId} not found`);
    const accounts = await resolveRetireAccounts(client, cooperativeId, found[0].member_id, 'breakage');
    await lockAccounts(client, [accounts.wallet.id]);
    const { rows } = await client.query<{ available: bigint; expires_at: Date; category: LotCategory }>('SELECT available, expires_at, category FROM lots WHERE id = $1', [lotId]);
    const lot = rows[0]!;
    const amount = lot.expires_at <= asOf ? lot.available : 0n;
    // Spent, held or not yet due by the time the lock was taken: no transaction without entries.
    if (amount === 0n) throw new NothingToExpire();
    const id = randomUUID();
    return write({
      id, cooperativeId, type: 'lot_expiry', idempotencyKey, requestHash,
      metadata: { lotId, expiresAt: lot.expires_at.toISOString() },
      entries: retirePostings(accounts, lot.category === 'paid' ? { paid: amount, promotional: 0n } : { paid: 0n, promotional: amount }),
      lotChanges: [{ lotId, available: -amount, reserved: 0n, consumed: amount }],
      movements: [{ lotId, amount }],
      events: [{ type: 'cloud.expired', aggregateId: found[0]!.member_id, payload: { transactionId: id, lotId, amount: formatMicros(amount) } }],
    });
  });
  return result.catch((err: unknown) => {
    if (err instanceof NothingToExpire) return undefined;
    throw err;
  });
}

/** Expires every lot of the cooperative that is past its expiry with credits still available. */
export async function expireDueLots(pool: Pool, cooperativeId: string, asOf: Date): Promise<LedgerResult[]> {
  const due = await inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM lots WHERE expires_at <= $1 AND available > 0 ORDER BY expires_at, id', [asOf]);
    return rows.map((r) => r.id);
  });
  const results: LedgerResult[] = [];
  for (const lotId of due) {
    const result = await expireLot(pool, cooperativeId, lotId, asOf);
    if (result) results.push(result);
  }
  return results;
}
