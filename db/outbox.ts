import type { Pool, PoolClient } from 'pg';
import type { DomainEvent, EventType } from '../domain/events';
import { ALL_EVENT_TYPES, type EndpointRef, type OutboxEvent } from '../domain/webhooks';
import { isDecimalUpTo, makeCursor, MAX_INT8, MAX_XID8, readCursor } from './cursor';
import { toJsonParam } from './json';
import { inSystemTransaction, inTenantTransaction } from './transaction';
import { inline } from './inline';

/** The channel the outbox's trigger notifies at every commit that wrote events (migration 1763801100000). */
export const OUTBOX_CHANNEL = 'outbox';

/** The statement that records `events` (one or more), for a batch of statements sent together at the end of a transaction. */
export function recordEventsStatement(cooperativeId: string, events: readonly DomainEvent[]): string {
  const rows = events.map((event) => inline('($1, $2, $3, $4::jsonb)', [cooperativeId, event.type, event.aggregateId, toJsonParam(event.payload)]));
  return `INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload) VALUES ${rows.join(',\n')}`;
}

export const recordEventStatement = (cooperativeId: string, event: DomainEvent): string => recordEventsStatement(cooperativeId, [event]);

/**
 * Records an event in the outbox, inside the caller's transaction: the event exists exactly when the
 * change it reports commits. (Ledger transactions write theirs in the same statement as their entries.)
 */
export async function recordEvent(client: PoolClient, cooperativeId: string, event: DomainEvent): Promise<void> {
  await client.query(recordEventStatement(cooperativeId, event));
}

interface EventRow {
  id: bigint;
  xid: string;
  event_id: string;
  event_type: EventType;
  cooperative_id: string;
  aggregate_id: string;
  created_at: Date;
  payload: Record<string, unknown>;
}

const EVENT_COLUMNS = 'id, xid::text AS xid, event_id, event_type, cooperative_id, aggregate_id, created_at, payload';

function toEvent(row: EventRow): OutboxEvent {
  return {
    sequence: row.id, xid: BigInt(row.xid), eventId: row.event_id, type: row.event_type, cooperativeId: row.cooperative_id,
    aggregateId: row.aggregate_id, createdAt: row.created_at.toISOString(), payload: row.payload,
  };
}

/**
 * The one rule for reading the outbox in order, used by the relay and the events API alike. Events are
 * taken in (xid, id) order: by the id of the transaction that wrote them, then as written. Only events
 * whose transaction is older than every transaction still running are shown
 * (xid < pg_snapshot_xmin(pg_current_snapshot())): any transaction that could still commit an event
 * earlier in that order has finished, so a reader past a position never sees an event appear behind it.
 * For two transactions on one aggregate, xid order is commit order, because each takes the aggregate's
 * lock as its first write, which is when its xid is assigned.
 */
function settledEvents(where: string, limit: string): string {
  return `SELECT ${EVENT_COLUMNS} FROM outbox
           WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) AND (${where})
           ORDER BY xid, id LIMIT ${limit}`;
}

/** One event by its sequence number, inside the caller's transaction (for its deliveries). */
export async function readEvent(client: PoolClient, sequence: bigint): Promise<OutboxEvent | undefined> {
  const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM outbox WHERE id = $1`, [sequence]);
  return rows[0] && toEvent(rows[0]);
}

/** Where a reader of the events API stands: the (xid, id) of the last event it has seen. */
const positionOf = (event: OutboxEvent) => [event.xid.toString(), event.sequence.toString()];

export interface EventFeedPage {
  items: OutboxEvent[];
  /** Where to continue from: after the last item, or where the request started when nothing new has settled. */
  nextCursor: string | null;
  /** Whether more events follow right away (otherwise poll again later with nextCursor). */
  hasMore: boolean;
}

/** A cooperative's events after `cursor`, in the order webhooks deliver them, optionally of one type. */
export async function readEvents(pool: Pool, cooperativeId: string, options: { cursor?: string; limit: number; type?: EventType }): Promise<EventFeedPage> {
  const after = readCursor(options.cursor, (p) => {
    if (p.length !== 2 || !isDecimalUpTo(p[0], MAX_XID8) || !isDecimalUpTo(p[1], MAX_INT8)) throw new Error('not an event position');
    return p as [string, string];
  });
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<EventRow>(
      settledEvents('($1::xid8 IS NULL OR (xid, id) > ($1::xid8, $2::bigint)) AND ($3::text IS NULL OR event_type = $3)', '$4'),
      [after?.[0] ?? null, after?.[1] ?? null, options.type ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(toEvent);
    const last = items.at(-1);
    return { items, nextCursor: last ? makeCursor(positionOf(last)) : (options.cursor ?? null), hasMore: rows.length > options.limit };
  });
}

export interface PublishedBatch {
  /** Events marked published. */
  published: number;
  /** Endpoints that got new deliveries, to be woken. */
  endpoints: EndpointRef[];
  /** Committed events the horizon still holds back, behind a transaction that has not finished yet. */
  waiting: boolean;
}

/**
 * Publishes the next settled events, in order: one delivery for each active endpoint of the event's
 * cooperative that subscribes to its type, and the event marked published, in one network-scope
 * transaction. Publishers take turns under one advisory lock: two batches published side by side
 * (FOR UPDATE SKIP LOCKED) could commit in the wrong order, and a later event be delivered first.
 */
export function publishEvents(pool: Pool, limit: number): Promise<PublishedBatch> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
  return inSystemTransaction(
    pool,
    async (client) => {
      const { rows } = await client.query<PublishedBatch>(
        `WITH batch AS (${settledEvents('published_at IS NULL', String(limit))}),
         deliveries AS (
           INSERT INTO webhook_deliveries (cooperative_id, endpoint_id, outbox_id)
           SELECT b.cooperative_id, e.id, b.id FROM batch b
             JOIN webhook_endpoints e ON e.cooperative_id = b.cooperative_id AND e.status = 'active'
                                     AND (b.event_type = ANY (e.event_types) OR '${ALL_EVENT_TYPES}' = ANY (e.event_types))
           RETURNING endpoint_id, cooperative_id
         ),
         published AS (UPDATE outbox o SET published_at = now() FROM batch b WHERE o.id = b.id RETURNING o.id)
         SELECT (SELECT count(*) FROM published)::int AS published,
                (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('endpointId', endpoint_id, 'cooperativeId', cooperative_id)), '[]') FROM deliveries) AS endpoints,
                EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND xid >= pg_snapshot_xmin(pg_current_snapshot())) AS waiting`,
      );
      return rows[0]!;
    },
    ["SELECT pg_advisory_xact_lock(hashtext('outbox-publisher'))"],
  );
}
