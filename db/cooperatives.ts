import type { Pool } from 'pg';
import type { Cooperative, CooperativeStatus } from '../domain/cooperative';
import { creationPosition, readCreationCursor, readCursor, toPage, type Page } from './cursor';
import { openCooperativeAccounts } from './ledger/accounts';
import { seedV1RateCard } from './rate-cards';
import { inSystemTransaction, inTenantTransaction } from './transaction';

interface CooperativeRow {
  id: string;
  slug: string;
  name: string;
  status: CooperativeStatus;
  created_at: Date;
  activated_at: Date | null;
  position?: string;
}

const COLUMNS = 'id, slug, name, status, created_at, activated_at';

function toCooperative(row: CooperativeRow): Cooperative {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    activatedAt: row.activated_at?.toISOString() ?? null,
  };
}

/** Inserts the cooperative unless its slug exists; returns the stored row either way. */
export function insertCooperative(pool: Pool, input: { id: string; slug: string; name: string }): Promise<Cooperative> {
  return inSystemTransaction(pool, async (db) => {
    const inserted = await db.query<CooperativeRow>(
      `INSERT INTO cooperatives (id, slug, name, status) VALUES ($1, $2, $3, 'provisioning')
       ON CONFLICT (slug) DO NOTHING RETURNING ${COLUMNS}`,
      [input.id, input.slug, input.name],
    );
    const row = inserted.rows[0] ?? (await db.query<CooperativeRow>(`SELECT ${COLUMNS} FROM cooperatives WHERE slug = $1`, [input.slug])).rows[0];
    if (!row) throw new Error(`cooperative ${input.slug} vanished after insert`);
    return toCooperative(row);
  });
}

/** Marks the cooperative active; a repeat leaves the first activation time in place. */
export function activateCooperative(pool: Pool, id: string): Promise<Cooperative> {
  return inSystemTransaction(pool, async (db) => {
    const { rows } = await db.query<CooperativeRow>(
      `UPDATE cooperatives SET status = 'active', activated_at = COALESCE(activated_at, now())
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    if (!rows[0]) throw new Error(`cooperative ${id} does not exist`);
    return toCooperative(rows[0]);
  });
}

export function findCooperativeById(pool: Pool, id: string): Promise<Cooperative | undefined> {
  return inSystemTransaction(pool, async (db) => {
    const { rows } = await db.query<CooperativeRow>(`SELECT ${COLUMNS} FROM cooperatives WHERE id = $1`, [id]);
    return rows[0] && toCooperative(rows[0]);
  });
}

export function findCooperativeBySlug(pool: Pool, slug: string): Promise<Cooperative | undefined> {
  return inSystemTransaction(pool, async (db) => {
    const { rows } = await db.query<CooperativeRow>(`SELECT ${COLUMNS} FROM cooperatives WHERE slug = $1`, [slug]);
    return rows[0] && toCooperative(rows[0]);
  });
}

/** Opens the cooperative's chart of accounts and seeds its V1 rate card, together and idempotently. */
export function openCooperativeLedger(pool: Pool, cooperativeId: string): Promise<void> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await openCooperativeAccounts(client, cooperativeId);
    await seedV1RateCard(client, cooperativeId);
  });
}

/** Every cooperative's id (the network directory). */
export async function cooperativeIds(pool: Pool): Promise<string[]> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<{ id: string }>('SELECT id FROM cooperatives ORDER BY id'));
  return rows.map((r) => r.id);
}

/** Cooperatives, newest first (operators; one bound to a cooperative sees only it). */
export function listCooperatives(
  pool: Pool,
  filter: { only?: string; status?: CooperativeStatus; createdFrom?: string; createdBefore?: string; limit: number; cursor?: string },
): Promise<Page<Cooperative>> {
  const after = readCreationCursor(filter.cursor);
  return inSystemTransaction(pool, async (db) => {
    const { rows } = await db.query<CooperativeRow>(
      `SELECT ${COLUMNS}, ${creationPosition.micros('created_at')} AS position FROM cooperatives
        WHERE ($1::uuid IS NULL OR id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ${creationPosition.after('created_at', 'id', '$5', '$6')}
        ORDER BY created_at DESC, id DESC LIMIT $7`,
      [filter.only ?? null, filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, after?.micros ?? null, after?.id ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.position!, r.id], toCooperative);
  });
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;

/** The network's directory: every active cooperative's id, slug and name, by slug. */
export function cooperativeDirectory(pool: Pool, page: { limit: number; cursor?: string }): Promise<Page<Pick<Cooperative, 'id' | 'slug' | 'name'>>> {
  const after = readCursor(page.cursor, ([slug]) => {
    if (typeof slug !== 'string' || !SLUG.test(slug)) throw new Error('not a directory position');
    return slug;
  });
  return inSystemTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: string; slug: string; name: string }>(
      `SELECT id, slug, name FROM cooperatives WHERE status = 'active' AND ($1::text IS NULL OR slug COLLATE "C" > $1) ORDER BY slug COLLATE "C" LIMIT $2`,
      [after ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit, (r) => [r.slug], (r) => ({ id: r.id, slug: r.slug, name: r.name }));
  });
}
