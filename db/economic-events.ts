import type { Pool } from 'pg';
import type { EconomicEvent, EconomicEventType, GovernanceProof } from '../domain/network/economic-events';
import { isUuid } from '../domain/ids';
import { isDecimalUpTo, MAX_INT8, readCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { toJsonParam } from './json';
import { inSystemTransaction } from './transaction';

export interface NewEconomicEvent {
  type: EconomicEventType;
  cooperativeId: string;
  cooperatives: string[];
  aggregateId: string;
  amount: bigint | null;
  currency: 'CLOUD' | 'USD' | null;
  payload: Record<string, unknown>;
  /** Already verified (db/governance-proof.ts). */
  proof: GovernanceProof | null;
  recordedBy: string;
  idempotencyKey: string;
}

interface EventRow {
  id: string;
  /** int8: a bigint with the pool's type parsers, text without them. */
  sequence: bigint | string;
  type: EconomicEventType;
  cooperative_id: string;
  cooperatives: string[];
  aggregate_id: string;
  amount: string | null;
  currency: 'CLOUD' | 'USD' | null;
  payload: Record<string, unknown>;
  proof: GovernanceProof | null;
  recorded_by: string;
  request_hash: string;
  created_at: Date;
}

const toEvent = (r: EventRow): EconomicEvent => ({
  id: r.id, sequence: BigInt(r.sequence), type: r.type, cooperativeId: r.cooperative_id, cooperatives: r.cooperatives, aggregateId: r.aggregate_id,
  amount: r.amount === null ? null : BigInt(r.amount), currency: r.currency, payload: r.payload, proof: r.proof, recordedBy: r.recorded_by, createdAt: r.created_at.toISOString(),
});

/**
 * Appends an event, once per key and recording cooperative; the database sends it to the outbox of
 * every cooperative it concerns (trigger) and refuses any later change to it.
 */
export function appendEconomicEvent(pool: Pool, e: NewEconomicEvent & { id: string }): Promise<{ event: EconomicEvent; created: boolean }> {
  const { id: _id, idempotencyKey, proof, ...request } = e;
  // The proof's digest is found by verification; the request is what the client asked for.
  const hash = requestHash('economic-event', { ...request, proposalId: proof?.proposalId ?? null, amount: e.amount?.toString() ?? null });
  return inSystemTransaction(pool, async (client) => {
    const read = async (where: string, values: unknown[]) => (await client.query<EventRow>(`SELECT * FROM economic_events WHERE ${where}`, values)).rows[0];
    const { row, replayed } = await idempotent(
      idempotencyKey,
      hash,
      () => read('cooperative_id = $1 AND idempotency_key = $2', [e.cooperativeId, idempotencyKey]),
      async () => {
        await client.query(
          `INSERT INTO economic_events (id, type, cooperative_id, cooperatives, aggregate_id, amount, currency, payload, proof, recorded_by, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12)`,
          [e.id, e.type, e.cooperativeId, [...new Set(e.cooperatives)], e.aggregateId, e.amount, e.currency, toJsonParam(e.payload), proof ? toJsonParam(proof) : null, e.recordedBy, idempotencyKey, hash],
        );
        return (await read('id = $1', [e.id]))!;
      },
    );
    return { event: toEvent(row), created: !replayed };
  });
}

export interface EconomicEventFilter {
  type?: EconomicEventType;
  aggregateId?: string;
  /** Events concerning this cooperative. */
  cooperativeId?: string;
  /** Only events concerning one of these (the caller's reach); undefined: all (operators). */
  visibleTo?: string[];
  cursor?: string;
  limit: number;
}

/** Events in the order they were recorded (by sequence), filtered, a page at a time. */
export async function listEconomicEvents(pool: Pool, f: EconomicEventFilter): Promise<Page<EconomicEvent>> {
  const after = readCursor(f.cursor, ([sequence]) => {
    if (!isDecimalUpTo(sequence, MAX_INT8)) throw new Error('bad cursor');
    return sequence;
  });
  if (f.cooperativeId !== undefined && !isUuid(f.cooperativeId)) return { items: [], nextCursor: null };
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<EventRow>(
      `SELECT * FROM economic_events
        WHERE ($1::bigint IS NULL OR sequence > $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR aggregate_id = $3)
          AND ($4::uuid IS NULL OR $4 = ANY (cooperatives)) AND ($5::uuid[] IS NULL OR cooperatives && $5)
        ORDER BY sequence LIMIT $6`,
      [after ?? null, f.type ?? null, f.aggregateId ?? null, f.cooperativeId ?? null, f.visibleTo ?? null, f.limit + 1],
    ),
  );
  return toPage(rows, f.limit, (r) => [String(r.sequence)], toEvent);
}

export async function findEconomicEvent(pool: Pool, id: string): Promise<EconomicEvent | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await inSystemTransaction(pool, (client) => client.query<EventRow>('SELECT * FROM economic_events WHERE id = $1', [id]));
  return rows[0] && toEvent(rows[0]);
}
