import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { PriceObservation } from '../domain/prices';
import { unixSeconds } from '../domain/sampling-instants';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { inTenantTransaction } from './transaction';

/** Prices operators set by hand for a cooperative's tokens, each with its reason: kept, never changed. */
export interface ManualPrice {
  id: string;
  cooperativeId: string;
  token: `0x${string}`;
  /** USD per whole token × 10^18. */
  price: bigint;
  observedAt: string;
  reason: string;
  setBy: string;
  createdAt: string;
}

interface PriceRow {
  id: string;
  cooperative_id: string;
  token: `0x${string}`;
  price: string;
  observed_at: Date;
  reason: string;
  set_by: string;
  request_hash: string;
  created_at: Date;
  position: string;
}

const COLUMNS = `id, cooperative_id, token, price::text AS price, observed_at, reason, set_by, request_hash, created_at, ${creationPosition.micros('created_at')} AS position`;

const toPrice = (r: PriceRow): ManualPrice => ({
  id: r.id, cooperativeId: r.cooperative_id, token: r.token, price: BigInt(r.price), observedAt: r.observed_at.toISOString(), reason: r.reason, setBy: r.set_by,
  createdAt: r.created_at.toISOString(),
});

/** `observedAt` omitted means now, and then it is not part of the request the key is bound to: a retry replays. */
export type SetManualPriceRequest = Omit<ManualPrice, 'id' | 'createdAt' | 'observedAt'> & { observedAt?: string; idempotencyKey: string };

/** Records an operator's price for a token. Idempotent by key. */
export function setManualPrice(pool: Pool, req: SetManualPriceRequest): Promise<{ price: ManualPrice; replayed: boolean }> {
  const hash = requestHash('set-manual-price', { ...req, observedAt: req.observedAt ?? null });
  return inTenantTransaction(pool, req.cooperativeId, async (client) => {
    const made = await idempotent(
      req.idempotencyKey,
      hash,
      async () => (await client.query<PriceRow>(`SELECT ${COLUMNS} FROM manual_token_prices WHERE idempotency_key = $1`, [req.idempotencyKey])).rows[0],
      async () =>
        (
          await client.query<PriceRow>(
            `INSERT INTO manual_token_prices (id, cooperative_id, token, price, observed_at, reason, set_by, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6, $7, $8, $9) RETURNING ${COLUMNS}`,
            [randomUUID(), req.cooperativeId, req.token, req.price.toString(), req.observedAt ?? null, req.reason, req.setBy, req.idempotencyKey, hash],
          )
        ).rows[0]!,
    );
    return { price: toPrice(made.row), replayed: made.replayed };
  });
}

/** A cooperative's manual prices, newest first, optionally of one token. */
export function listManualPrices(pool: Pool, cooperativeId: string, options: { token?: string; limit: number; cursor?: string }): Promise<Page<ManualPrice>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<PriceRow>(
      `SELECT ${COLUMNS} FROM manual_token_prices
        WHERE ($1::text IS NULL OR lower(token) = lower($1)) AND ${creationPosition.after('created_at', 'id', '$2', '$3')}
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [options.token ?? null, after?.micros ?? null, after?.id ?? null, options.limit + 1],
    );
    return toPage(rows, options.limit, (r) => [r.position, r.id], toPrice);
  });
}

/**
 * The manual prices that can price [from, to] (for a spot price, from = to): the one in force at `from`
 * and every one set for an instant after it up to `to`, in order. Each names its row.
 */
export function manualPriceObservations(pool: Pool, cooperativeId: string, token: string, from: Date, to: Date): Promise<PriceObservation[]> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ id: string; price: string; observed_at: Date }>(
      `(SELECT id, price::text AS price, observed_at FROM manual_token_prices
         WHERE cooperative_id = $1 AND lower(token) = lower($2) AND observed_at <= $3 ORDER BY observed_at DESC, created_at DESC LIMIT 1)
       UNION ALL
       (SELECT id, price::text, observed_at FROM manual_token_prices
         WHERE cooperative_id = $1 AND lower(token) = lower($2) AND observed_at > $3 AND observed_at <= $4 ORDER BY observed_at, created_at)`,
      [cooperativeId, token, from, to],
    );
    return rows.map((r) => ({ price: BigInt(r.price), at: unixSeconds(r.observed_at), reference: r.id }));
  });
}
