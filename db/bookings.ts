import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../domain/errors';
import { isUuid } from '../domain/ids';
import type { Booking, BookingSettlement, BookingStatus } from '../domain/network/resources';
import { formatMicros } from '../domain/money';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { toJsonParam } from './json';
import { recordEvent } from './outbox';
import { inSystemTransaction } from './transaction';

interface BookingRow {
  id: string;
  resource_id: string;
  owner_cooperative_id: string;
  requester_cooperative_id: string;
  requester_member_id: string;
  starts_at: Date;
  ends_at: Date;
  status: BookingStatus;
  cost: string;
  proposal_id: string | null;
  settlement: BookingSettlement | null;
  reason: string | null;
  request_hash: string;
  created_at: Date;
  decided_at: Date | null;
}

const COLUMNS = `id, resource_id, owner_cooperative_id, requester_cooperative_id, requester_member_id, lower(period) AS starts_at, upper(period) AS ends_at,
  status, cost, proposal_id, settlement, reason, request_hash, created_at, decided_at`;

const toBooking = (r: BookingRow): Booking => ({
  id: r.id, resourceId: r.resource_id, ownerCooperativeId: r.owner_cooperative_id, requesterCooperativeId: r.requester_cooperative_id, requesterMemberId: r.requester_member_id,
  from: r.starts_at.toISOString(), to: r.ends_at.toISOString(), status: r.status, cost: BigInt(r.cost), proposalId: r.proposal_id, settlement: r.settlement, reason: r.reason,
  createdAt: r.created_at.toISOString(), decidedAt: r.decided_at?.toISOString() ?? null,
});

const read = async (client: PoolClient, where: string, values: unknown[]) => (await client.query<BookingRow>(`SELECT ${COLUMNS} FROM bookings WHERE ${where}`, values)).rows[0];

export interface NewBooking {
  id: string;
  resourceId: string;
  ownerCooperativeId: string;
  requesterCooperativeId: string;
  requesterMemberId: string;
  from: Date;
  to: Date;
  cost: bigint;
  idempotencyKey: string;
}

/** Opens a booking, pending, holding its slot: the exclusion constraint refuses any overlapping one (CONFLICT). Once per key. */
export function createBooking(pool: Pool, b: NewBooking): Promise<{ booking: Booking; created: boolean }> {
  const hash = requestHash('booking', { resourceId: b.resourceId, requesterMemberId: b.requesterMemberId, from: b.from.toISOString(), to: b.to.toISOString() });
  return inSystemTransaction(pool, async (client) => {
    const { row, replayed } = await idempotent(
      b.idempotencyKey,
      hash,
      () => read(client, 'requester_cooperative_id = $1 AND idempotency_key = $2', [b.requesterCooperativeId, b.idempotencyKey]),
      async () => {
        await client.query(
          `INSERT INTO bookings (id, resource_id, owner_cooperative_id, requester_cooperative_id, requester_member_id, period, status, cost, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, tstzrange($6, $7, '[)'), 'pending', $8, $9, $10)`,
          [b.id, b.resourceId, b.ownerCooperativeId, b.requesterCooperativeId, b.requesterMemberId, b.from, b.to, b.cost, b.idempotencyKey, hash],
        );
        return (await read(client, 'id = $1', [b.id]))!;
      },
    );
    return { booking: toBooking(row), created: !replayed };
  });
}

/** Links a pending booking to the proposal that decides it (the same proposal again changes nothing). */
export async function linkProposal(pool: Pool, bookingId: string, proposalId: string): Promise<void> {
  const { rowCount } = await inSystemTransaction(pool, (client) =>
    client.query('UPDATE bookings SET proposal_id = $2 WHERE id = $1 AND (proposal_id IS NULL OR proposal_id = $2)', [bookingId, proposalId]),
  );
  if (rowCount === 0) throw new BusinessError('CONFLICT', `Booking ${bookingId} is decided by another proposal`);
}

export async function findBooking(pool: Pool, id: string): Promise<Booking | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await inSystemTransaction(pool, (client) => read(client, 'id = $1', [id]));
  return row && toBooking(row);
}

/**
 * Decides a pending booking, once: confirmed (with its settlement) keeps the slot; rejected, cancelled
 * or failed release it. A confirmed one can still be cancelled. Deciding it again the same way changes nothing; another way is refused
 * (CONFLICT). Both cooperatives get a `booking.updated` event.
 */
export async function decideBooking(pool: Pool, id: string, d: { status: Exclude<BookingStatus, 'pending'>; settlement?: BookingSettlement; reason?: string }): Promise<Booking> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<BookingRow>(
      // A confirmed booking may still be cancelled (its settlement reversed by then); it keeps the record of what was settled.
      `UPDATE bookings SET status = $2, settlement = COALESCE($3::jsonb, settlement), reason = $4, decided_at = now()
        WHERE id = $1 AND (status = 'pending' OR (status = 'confirmed' AND $2 = 'cancelled')) RETURNING ${COLUMNS}`,
      [id, d.status, d.settlement ? toJsonParam(d.settlement) : null, d.reason ?? null],
    );
    const row = rows[0] ?? (await read(client, 'id = $1', [id]));
    if (!row) throw new BusinessError('NOT_FOUND', 'Booking not found');
    if (row.status !== d.status) throw new BusinessError('CONFLICT', `The booking is already ${row.status}`);
    if (rows[0]) {
      const payload = { bookingId: id, resourceId: row.resource_id, status: row.status, cost: formatMicros(BigInt(row.cost)), from: row.starts_at.toISOString(), to: row.ends_at.toISOString() };
      for (const cooperativeId of new Set([row.owner_cooperative_id, row.requester_cooperative_id])) await recordEvent(client, cooperativeId, { type: 'booking.updated', aggregateId: id, payload });
    }
    return toBooking(row);
  });
}

export interface BookingListFilter {
  /** Bookings this cooperative requested or owns the resource of. */
  cooperativeId: string;
  status?: BookingStatus;
  resourceId?: string;
  /** The requesting member. */
  memberId?: string;
  /** Bookings whose slot overlaps [from, to) (either bound may be open). */
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

/**
 * A cooperative's bookings, as requester or as owner, newest first. Each side is read by its own
 * index in creation order and the two merged, so a page costs the same however many bookings there are.
 */
export async function listBookings(pool: Pool, f: BookingListFilter): Promise<Page<Booking>> {
  const after = readCreationCursor(f.cursor);
  const side = (column: string) =>
    `SELECT ${COLUMNS}, ${creationPosition.micros('created_at')} AS position FROM bookings
      WHERE ${column} = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR resource_id = $3) AND ($4::uuid IS NULL OR requester_member_id = $4)
        AND period && tstzrange($5, $6, '[)') AND ${creationPosition.after('created_at', 'id', '$7', '$8')}
      ORDER BY created_at DESC, id DESC LIMIT $9`;
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<BookingRow & { position: string }>(
      // A booking within one cooperative is on both sides: UNION keeps it once.
      `SELECT * FROM ((${side('requester_cooperative_id')}) UNION (${side('owner_cooperative_id')})) b ORDER BY created_at DESC, id DESC LIMIT $9`,
      [f.cooperativeId, f.status ?? null, f.resourceId ?? null, f.memberId ?? null, f.from ?? null, f.to ?? null, after?.micros ?? null, after?.id ?? null, f.limit + 1],
    ),
  );
  return toPage(rows, f.limit, (r) => [r.position, r.id], toBooking);
}
