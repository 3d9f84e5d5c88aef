import type { Pool } from 'pg';
import { isUuid } from '../domain/ids';
import type { AccessModel, AvailabilityWindow, CostModel, ResourceType, SharedResource } from '../domain/network/resources';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { toJsonParam } from './json';
import { inSystemTransaction, readInNetwork } from './transaction';

export interface NewResource {
  id: string;
  cooperativeId: string;
  type: ResourceType;
  title: string;
  description: string;
  location: string;
  schedule: AvailabilityWindow[];
  /** The schedule as minutes of the week (domain/network/resources.ts scheduleRanges). */
  ranges: Array<[number, number]>;
  accessModel: AccessModel;
  costModel: CostModel;
  costAmount: bigint;
  createdBy: string;
  idempotencyKey: string;
}

interface ResourceRow {
  id: string;
  cooperative_id: string;
  type: ResourceType;
  title: string;
  description: string;
  location: string;
  schedule: AvailabilityWindow[];
  access_model: AccessModel;
  cost_model: CostModel;
  cost_amount: string;
  request_hash: string;
  created_at: Date;
  position: string;
}

const COLUMNS = `id, cooperative_id, type, title, description, location, schedule, access_model, cost_model, cost_amount, request_hash, created_at, ${creationPosition.micros('created_at')} AS position`;

const toResource = (r: ResourceRow): SharedResource => ({
  id: r.id, cooperativeId: r.cooperative_id, type: r.type, title: r.title, description: r.description, location: r.location, schedule: r.schedule,
  accessModel: r.access_model, costModel: r.cost_model, costAmount: BigInt(r.cost_amount), createdAt: r.created_at.toISOString(),
});

/** A multirange literal of minutes-of-week ranges (integers, validated by the domain). */
const multirange = (ranges: Array<[number, number]>) => `{${ranges.map(([a, b]) => `[${a},${b})`).join(',')}}`;

/** Registers a shared resource of its owner cooperative, once per key. */
export function createResource(pool: Pool, r: NewResource): Promise<{ resource: SharedResource; created: boolean }> {
  const { id: _id, idempotencyKey, ranges: _ranges, ...request } = r;
  const hash = requestHash('resource', { ...request, costAmount: r.costAmount.toString() });
  return inSystemTransaction(pool, async (client) => {
    const read = async (where: string, values: unknown[]) => (await client.query<ResourceRow>(`SELECT ${COLUMNS} FROM resources WHERE ${where}`, values)).rows[0];
    const { row, replayed } = await idempotent(
      idempotencyKey,
      hash,
      () => read('cooperative_id = $1 AND idempotency_key = $2', [r.cooperativeId, idempotencyKey]),
      async () => {
        await client.query(
          `INSERT INTO resources (id, cooperative_id, type, title, description, location, availability, schedule, access_model, cost_model, cost_amount, created_by, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7::week_schedule, $8::jsonb, $9, $10, $11, $12, $13, $14)`,
          [r.id, r.cooperativeId, r.type, r.title, r.description, r.location, multirange(r.ranges), toJsonParam(r.schedule), r.accessModel, r.costModel, r.costAmount, r.createdBy, idempotencyKey, hash],
        );
        return (await read('id = $1', [r.id]))!;
      },
    );
    return { resource: toResource(row), created: !replayed };
  });
}

export async function findResource(pool: Pool, id: string): Promise<SharedResource | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await inSystemTransaction(pool, (client) => client.query<ResourceRow>(`SELECT ${COLUMNS} FROM resources WHERE id = $1`, [id]));
  return rows[0] && toResource(rows[0]);
}

export interface ResourceSearch {
  text?: string;
  type?: ResourceType;
  /** A prefix of the location, any case. */
  location?: string;
  /** Available for the whole of [from, to): within the weekly schedule and not booked. */
  available?: { from: Date; to: Date; ranges: Array<[number, number]> };
  cursor?: string;
  limit: number;
}

const likePrefix = (text: string) => `${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The search statement (text and values), for the search and for the benchmark that explains its plan.
 * Each filter is written so its index can serve it: words by the GIN index on the tsvector, type and
 * location prefix by a pattern-ops btree, the weekly schedule by the GiST index on the multirange, and a
 * slot's bookings by the exclusion constraint's GiST index on (resource, period). The statement is planned
 * for its values (db/transaction.ts readInNetwork), so the filters not given fold away.
 *
 * The bookings are probed one resource at a time, only for the candidates that reach the probe (a page's
 * worth when the scan walks the creation order): `OFFSET 0` keeps the planner from its hashed alternative,
 * which reads every holding booking of the network first. It picks that alternative by the rows the scan
 * could return without the LIMIT, and on this machine it cost 1-3 ms of a 4 ms search where the probes
 * cost 0.1 ms (decision 0029).
 */
export function searchStatement(s: ResourceSearch): { text: string; values: unknown[] } {
  const after = readCreationCursor(s.cursor);
  return {
    text: `SELECT ${COLUMNS} FROM resources r
        WHERE ($1::text IS NULL OR r.search @@ plainto_tsquery('simple', $1))
          AND ($2::text IS NULL OR r.type = $2)
          AND ($3::text IS NULL OR lower(r.location) LIKE $3)
          AND ($4::week_schedule IS NULL OR r.availability @> $4::week_schedule)
          AND ($5::timestamptz IS NULL OR NOT EXISTS (
                SELECT 1 FROM bookings b WHERE b.resource_id = r.id AND b.status IN ('pending', 'confirmed') AND b.period && tstzrange($5, $6, '[)') OFFSET 0))
          AND ${creationPosition.after('r.created_at', 'r.id', '$7', '$8')}
        ORDER BY r.created_at DESC, r.id DESC LIMIT $9`,
    values: [
      s.text ?? null, s.type ?? null, s.location ? likePrefix(s.location) : null, s.available ? multirange(s.available.ranges) : null,
      s.available?.from ?? null, s.available?.to ?? null, after?.micros ?? null, after?.id ?? null, s.limit + 1,
    ],
  };
}

/**
 * Discovery across the network, newest first: words of the title, description and location
 * (full-text), type, location prefix, and availability in a time range (the weekly schedule covers
 * it and no booking holds any part of it).
 */
export async function searchResources(pool: Pool, s: ResourceSearch): Promise<Page<SharedResource>> {
  const [found] = await readInNetwork(pool, [searchStatement(s)]);
  return toPage(found!.rows as ResourceRow[], s.limit, (r) => [r.position, r.id], toResource);
}
