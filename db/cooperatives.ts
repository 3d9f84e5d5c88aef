import type { Pool } from 'pg';
import type { Cooperative, CooperativeStatus } from '../domain/cooperative';
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
