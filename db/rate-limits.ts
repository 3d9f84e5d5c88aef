import type { Pool } from 'pg';
import { systemStatement } from './transaction';

/**
 * Request counters for rate limiting, in fixed windows, shared through PostgreSQL so that every API
 * process counts against the same budget. One statement counts the hits of many keys at once (the API
 * batches them, api/rate-limits.ts); windows older than the previous one are swept by the same statement
 * now and then, so the table stays small without a job. Returns each key's count after its hits.
 */
export async function countHits(pool: Pool, hits: Array<{ key: string; hits: number }>, windowMs: number): Promise<Map<string, { hits: number; resetTime: Date }>> {
  const sweep = Math.random() < 0.01;
  const { rows } = await systemStatement<{ key: string; hits: number; window_start: Date }>(
    pool,
    // One window for the whole statement; keys in order, so concurrent statements lock rows in the same order.
    `WITH now_window AS (
       SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp()) * 1000 / $3) * $3 / 1000) AS start
     ), hit AS (
       INSERT INTO rate_limit_hits (key, window_start, hits)
       SELECT t.key, w.start, t.hits FROM unnest($1::text[], $2::int[]) AS t(key, hits), now_window w ORDER BY t.key
       ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + EXCLUDED.hits
       RETURNING key, hits, window_start
     ), swept AS (
       DELETE FROM rate_limit_hits WHERE $4 AND window_start < clock_timestamp() - 2 * $3 * interval '1 millisecond'
     )
     SELECT key, hits, window_start FROM hit`,
    [hits.map((h) => h.key), hits.map((h) => h.hits), windowMs, sweep],
  );
  return new Map(rows.map((r) => [r.key, { hits: r.hits, resetTime: new Date(r.window_start.getTime() + windowMs) }]));
}

/** Takes back a hit counted in the current window (a request the limiter decided not to count after all). */
export async function uncountHit(pool: Pool, key: string, windowMs: number): Promise<void> {
  await systemStatement(
    pool,
    `UPDATE rate_limit_hits SET hits = greatest(hits - 1, 0)
      WHERE key = $1 AND window_start = to_timestamp(floor(extract(epoch FROM clock_timestamp()) * 1000 / $2) * $2 / 1000)`,
    [key, windowMs],
  );
}

export async function resetHits(pool: Pool, key: string): Promise<void> {
  await systemStatement(pool, 'DELETE FROM rate_limit_hits WHERE key = $1', [key]);
}
