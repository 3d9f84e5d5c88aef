import type { Pool } from 'pg';
import { systemStatement } from './transaction';

/**
 * Request counters for rate limiting, in fixed windows, shared through PostgreSQL so that every API
 * process counts against the same budget. One statement per request; windows older than the previous
 * one are swept by the same statement now and then, so the table stays small without a job.
 */
export async function countHit(pool: Pool, key: string, windowMs: number): Promise<{ hits: number; resetTime: Date }> {
  const sweep = Math.random() < 0.01;
  const { rows } = await systemStatement<{ hits: number; window_start: Date }>(
    pool,
    `WITH hit AS (
       INSERT INTO rate_limit_hits (key, window_start, hits)
       VALUES ($1, to_timestamp(floor(extract(epoch FROM clock_timestamp()) * 1000 / $2) * $2 / 1000), 1)
       ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1
       RETURNING hits, window_start
     ), swept AS (
       DELETE FROM rate_limit_hits WHERE $3 AND window_start < clock_timestamp() - 2 * $2 * interval '1 millisecond'
     )
     SELECT hits, window_start FROM hit`,
    [key, windowMs, sweep],
  );
  return { hits: rows[0]!.hits, resetTime: new Date(rows[0]!.window_start.getTime() + windowMs) };
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
