import type { Pool, PoolClient } from 'pg';
import type { PriceAveraging, PriceSourceType, Stream, StreamSample } from '../domain/streams';
import { recordEvent } from './outbox';
import { isCursorInstant, readCursor, toPage, type Page } from './cursor';
import { inTenantTransaction } from './transaction';
import { isUuid } from '../domain/ids';

/** Stream samples as stored (the posting is db/ledger/ops/stream-sample.ts): read back by key, listed per stream. */
export interface SampleRow {
  id: string;
  cooperative_id: string;
  stream_id: string;
  interval_start: Date;
  interval_end: Date;
  amount_wei: string;
  end_flow_rate: string;
  end_block: bigint;
  price_source: PriceSourceType | null;
  price_reference: string | null;
  price_averaging: PriceAveraging | null;
  price: string | null;
  price_observed_at: Date | null;
  price_age_seconds: bigint | null;
  amount_usd: bigint;
  transaction_id: string | null;
  request_hash: string;
  created_at: Date;
}

export const SAMPLE_COLUMNS = `id, cooperative_id, stream_id, interval_start, interval_end, amount_wei::text AS amount_wei, end_flow_rate::text AS end_flow_rate, end_block,
  price_source, price_reference, price_averaging, price::text AS price, price_observed_at, price_age_seconds, amount_usd, transaction_id, request_hash, created_at`;

export function toSample(r: SampleRow): StreamSample {
  return {
    id: r.id, cooperativeId: r.cooperative_id, streamId: r.stream_id, intervalStart: r.interval_start.toISOString(), intervalEnd: r.interval_end.toISOString(),
    amountWei: BigInt(r.amount_wei), endFlowRate: BigInt(r.end_flow_rate), endBlock: r.end_block,
    pricing: r.price_source === null
      ? null
      : { source: r.price_source, reference: r.price_reference!, averaging: r.price_averaging!, price: BigInt(r.price!), observedAt: r.price_observed_at!.toISOString(), ageSeconds: r.price_age_seconds! },
    amountUsd: r.amount_usd, transactionId: r.transaction_id, createdAt: r.created_at.toISOString(),
  };
}

/** The samples written under `keys`, by key, inside the caller's transaction. */
export async function samplesByKey(client: PoolClient, keys: readonly string[]): Promise<Map<string, SampleRow>> {
  const { rows } = await client.query<SampleRow & { idempotency_key: string }>(`SELECT ${SAMPLE_COLUMNS}, idempotency_key FROM stream_samples WHERE idempotency_key = ANY($1::text[])`, [keys]);
  return new Map(rows.map((r) => [r.idempotency_key, r]));
}

/** A stream's samples, newest interval first. */
export function listSamples(pool: Pool, cooperativeId: string, streamId: string, options: { limit: number; cursor?: string }): Promise<Page<StreamSample>> {
  const after = readCursor(options.cursor, ([end, id]) => {
    if (!isCursorInstant(end) || typeof id !== 'string' || !isUuid(id)) throw new Error('not a sample position');
    return { end, id };
  });
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<SampleRow>(
      `SELECT ${SAMPLE_COLUMNS} FROM stream_samples
        WHERE stream_id = $1 AND ($2::timestamptz IS NULL OR (interval_end, id) < ($2::timestamptz, $3::uuid))
        ORDER BY interval_end DESC, id DESC LIMIT $4`,
      [streamId, after?.end ?? null, after?.id ?? null, options.limit + 1],
    );
    return toPage(rows, options.limit, (r) => [r.interval_end.toISOString(), r.id], toSample);
  });
}

/**
 * The alert for an interval no price source could price: a `stream.price_unavailable` event, with each
 * source's reason. Nothing is posted; the interval stays open for the next run (or a backfill).
 */
export function recordUnpricedInterval(
  pool: Pool,
  stream: Pick<Stream, 'id' | 'cooperativeId' | 'token'>,
  unpriced: { intervalStart: string; intervalEnd: string; amountWei: bigint; reasons: string[] },
): Promise<void> {
  return inTenantTransaction(pool, stream.cooperativeId, (client) =>
    recordEvent(client, stream.cooperativeId, {
      type: 'stream.price_unavailable',
      aggregateId: stream.id,
      payload: { streamId: stream.id, token: stream.token, intervalStart: unpriced.intervalStart, intervalEnd: unpriced.intervalEnd, amountWei: unpriced.amountWei.toString(), reasons: unpriced.reasons },
    }),
  );
}
