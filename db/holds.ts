import type { Pool } from 'pg';
import type { Hold, HoldStatus } from '../domain/hold';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { HOLD_COLUMNS, toHold, type HoldRow } from './ledger/ops/holds';
import { inTenantTransaction } from './transaction';

export function findHold(pool: Pool, cooperativeId: string, holdId: string): Promise<Hold | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [holdId]);
    return rows[0] && toHold(rows[0]);
  });
}

export interface HoldListFilter {
  memberId?: string;
  status?: HoldStatus;
  createdFrom?: string;
  createdBefore?: string;
  limit: number;
  cursor?: string;
}

/** A cooperative's holds (or one member's), newest first. */
export function listHolds(pool: Pool, cooperativeId: string, filter: HoldListFilter): Promise<Page<Hold>> {
  const after = readCreationCursor(filter.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<HoldRow & { position: string }>(
      `SELECT ${HOLD_COLUMNS}, ${creationPosition.micros('created_at')} AS position FROM holds
        WHERE ($1::uuid IS NULL OR member_id = $1) AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ${creationPosition.after('created_at', 'id', '$5', '$6')}
        ORDER BY created_at DESC, id DESC LIMIT $7`,
      [filter.memberId ?? null, filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, after?.micros ?? null, after?.id ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.position, r.id], toHold);
  });
}
