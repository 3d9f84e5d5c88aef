import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../domain/errors';
import type { PriceAveraging, PriceSource, SamplingInterval, SamplingPosition, Stream, StreamAccount, StreamDenomination, StreamDirection, StreamStatus } from '../domain/streams';
import { readCreationCursor, creationPosition, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { toJsonParam } from './json';
import { openCooperativeAccounts } from './ledger/accounts';
import { inSystemTransaction, inTenantTransaction } from './transaction';

/** The stream register: a cooperative's streams, registered by key and deactivated, never deleted. */

interface StreamRow {
  id: string;
  cooperative_id: string;
  name: string | null;
  token: `0x${string}`;
  sender: `0x${string}`;
  receiver: `0x${string}`;
  direction: StreamDirection;
  account: StreamAccount;
  sampling_interval: SamplingInterval;
  price_sources: PriceSource[];
  price_averaging: PriceAveraging;
  denomination: StreamDenomination;
  status: StreamStatus;
  registered_at: Date;
  registered_rate: string;
  registered_block: bigint;
  sampled_until: Date;
  sampled_rate: string;
  sampled_block: bigint;
  created_at: Date;
  deactivated_at: Date | null;
  request_hash: string;
  position: string;
}

/** Each stream with where its books stand: its last sample's end, or its registration. */
const SELECT_STREAM = `
  SELECT s.id, s.cooperative_id, s.name, s.token, s.sender, s.receiver, s.direction, s.account, s.sampling_interval, s.price_sources, s.price_averaging,
         s.denomination, s.status, s.registered_at, s.registered_rate::text AS registered_rate, s.registered_block, s.created_at, s.deactivated_at, s.request_hash,
         COALESCE(l.interval_end, s.registered_at) AS sampled_until, COALESCE(l.end_flow_rate, s.registered_rate)::text AS sampled_rate,
         COALESCE(l.end_block, s.registered_block) AS sampled_block, ${creationPosition.micros('s.created_at')} AS position
    FROM streams s
    LEFT JOIN LATERAL (SELECT interval_end, end_flow_rate, end_block FROM stream_samples WHERE stream_id = s.id ORDER BY interval_end DESC LIMIT 1) l ON true`;

function toStream(r: StreamRow): Stream {
  return {
    id: r.id, cooperativeId: r.cooperative_id, name: r.name, token: r.token, sender: r.sender, receiver: r.receiver, direction: r.direction, account: r.account,
    samplingInterval: r.sampling_interval, priceSources: r.price_sources, priceAveraging: r.price_averaging, denomination: r.denomination, status: r.status,
    registeredAt: { at: r.registered_at.toISOString(), flowRate: BigInt(r.registered_rate), block: r.registered_block },
    sampledUntil: { at: r.sampled_until.toISOString(), flowRate: BigInt(r.sampled_rate), block: r.sampled_block },
    createdAt: r.created_at.toISOString(), deactivatedAt: r.deactivated_at?.toISOString() ?? null,
  };
}

export interface RegisterStreamRequest {
  cooperativeId: string;
  name?: string;
  token: `0x${string}`;
  sender: `0x${string}`;
  receiver: `0x${string}`;
  direction: StreamDirection;
  account: StreamAccount;
  samplingInterval: SamplingInterval;
  priceSources: PriceSource[];
  priceAveraging: PriceAveraging;
  denomination: StreamDenomination;
  idempotencyKey: string;
}

/** A stream, inside the caller's transaction. */
export async function readStream(client: PoolClient, id: string): Promise<Stream | undefined> {
  const { rows } = await client.query<StreamRow>(`${SELECT_STREAM} WHERE s.id = $1`, [id]);
  return rows[0] && toStream(rows[0]);
}

/**
 * Registers a stream where the chain stands now (`position`, read by the caller). Idempotent by key: the
 * key is bound to the request, not to the chain's position, so a retry replays the first registration.
 * Opens the stream accounts of the chart if the cooperative was provisioned before they existed.
 */
export function registerStream(pool: Pool, req: RegisterStreamRequest, position: SamplingPosition): Promise<{ stream: Stream; replayed: boolean }> {
  const hash = requestHash('register-stream', req);
  return inTenantTransaction(pool, req.cooperativeId, async (client) => {
    const made = await idempotent(
      req.idempotencyKey,
      hash,
      async () => (await client.query<StreamRow>(`${SELECT_STREAM} WHERE s.idempotency_key = $1`, [req.idempotencyKey])).rows[0],
      async () => {
        await openCooperativeAccounts(client, req.cooperativeId);
        const id = randomUUID();
        await client.query(
          `INSERT INTO streams (id, cooperative_id, name, token, sender, receiver, direction, account, sampling_interval, price_sources, price_averaging, denomination,
                               registered_at, registered_rate, registered_block, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17)`,
          [
            id, req.cooperativeId, req.name ?? null, req.token, req.sender, req.receiver, req.direction, req.account, req.samplingInterval,
            toJsonParam(req.priceSources), req.priceAveraging, req.denomination, position.at, position.flowRate.toString(), position.block, req.idempotencyKey, hash,
          ],
        );
        return (await client.query<StreamRow>(`${SELECT_STREAM} WHERE s.id = $1`, [id])).rows[0]!;
      },
    );
    return { stream: toStream(made.row), replayed: made.replayed };
  });
}

/** Which of `ids` are active streams, inside the caller's transaction. */
export async function activeStreamIds(client: PoolClient, ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>(`SELECT id FROM streams WHERE id = ANY($1::uuid[]) AND status = 'active'`, [ids]);
  return new Set(rows.map((r) => r.id));
}

export function findStream(pool: Pool, cooperativeId: string, streamId: string): Promise<Stream | undefined> {
  return inTenantTransaction(pool, cooperativeId, (client) => readStream(client, streamId));
}

/** A cooperative's streams, newest first, optionally of one status. */
export function listStreams(pool: Pool, cooperativeId: string, options: { status?: StreamStatus; limit: number; cursor?: string }): Promise<Page<Stream>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<StreamRow>(
      `${SELECT_STREAM}
        WHERE ($1::text IS NULL OR s.status = $1) AND ${creationPosition.after('s.created_at', 's.id', '$2', '$3')}
        ORDER BY s.created_at DESC, s.id DESC LIMIT $4`,
      [options.status ?? null, after?.micros ?? null, after?.id ?? null, options.limit + 1],
    );
    return toPage(rows, options.limit, (r) => [r.position, r.id], toStream);
  });
}

/**
 * Stops sampling a stream: what it posted stays, and nothing more is posted for it. Deactivating an
 * inactive stream changes nothing. The flow key may then be registered again, starting from where the
 * chain is at that registration.
 */
export function deactivateStream(pool: Pool, cooperativeId: string, streamId: string): Promise<Stream> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query(`UPDATE streams SET status = 'inactive', deactivated_at = now() WHERE id = $1 AND status = 'active'`, [streamId]);
    const stream = await readStream(client, streamId);
    if (!stream) throw new BusinessError('NOT_FOUND', 'Stream not found');
    return stream;
  });
}

/**
 * A cooperative's active streams in id order, each with where its books stand: all of them, those with
 * ids from `first` to `last`, or those of `ids`. What a sampling run goes through, batch by batch.
 */
export function streamsBetween(pool: Pool, cooperativeId: string, which: { first?: string; last?: string; ids?: readonly string[] }): Promise<Stream[]> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<StreamRow>(
      `${SELECT_STREAM}
        WHERE s.status = 'active' AND ($1::uuid IS NULL OR s.id >= $1) AND ($2::uuid IS NULL OR s.id <= $2) AND ($3::uuid[] IS NULL OR s.id = ANY($3))
        ORDER BY s.id`,
      [which.first ?? null, which.last ?? null, which.ids ?? null],
    );
    return rows.map(toStream);
  });
}

/** The cooperatives that have active streams (or any streams): the ones a sampling (or reconciliation) run is started for. */
export function cooperativesWithStreams(pool: Pool, which: 'active' | 'any'): Promise<string[]> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<{ cooperative_id: string }>(`SELECT DISTINCT cooperative_id FROM streams WHERE $1 = 'any' OR status = 'active' ORDER BY cooperative_id`, [which]);
    return rows.map((r) => r.cooperative_id);
  });
}

/** Every stream (of one cooperative, or of all), active or not, each with where its books stand and the wei its samples booked in all. */
export function streamsWithBookings(pool: Pool, cooperativeId?: string): Promise<Array<Stream & { bookedWei: bigint }>> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<StreamRow & { booked_wei: string }>(
      `SELECT t.*, COALESCE((SELECT sum(amount_wei) FROM stream_samples x WHERE x.stream_id = t.id), 0)::text AS booked_wei
         FROM (${SELECT_STREAM} WHERE $1::uuid IS NULL OR s.cooperative_id = $1) t ORDER BY t.cooperative_id, t.id`,
      [cooperativeId ?? null],
    );
    return rows.map((r) => ({ ...toStream(r), bookedWei: BigInt(r.booked_wei) }));
  });
}
