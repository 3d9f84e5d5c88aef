import type { Pool, PoolClient } from 'pg';
import type { DeadLetterHandover, DeadLetterHistoryAction, DeadLetterHistoryEntry, DeadLetterItem, DeadLetterOperationType, DeadLetterStatus } from '../domain/dead-letter';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { toJsonParam } from './json';
import { inSystemTransaction, inTenantTransaction } from './transaction';

/**
 * Dead-letter items and their history. The worker writes in the network scope (an item may belong to
 * no cooperative). Reads take the reader's scope: the network for network-wide operators, or one
 * cooperative, where row-level security shows that cooperative's items only.
 */

interface Row {
  id: string;
  operation_type: DeadLetterOperationType;
  business_key: string;
  cooperative_id: string | null;
  payload: Record<string, unknown>;
  status: DeadLetterStatus;
  attempts: number;
  last_error: string;
  created_at: Date;
  updated_at: Date;
}

const toItem = (r: Row): DeadLetterItem => ({
  id: r.id, operationType: r.operation_type, businessKey: r.business_key, cooperativeId: r.cooperative_id, payload: r.payload, status: r.status,
  attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
});

/** Whose items a reader sees: one cooperative's, or (undefined) every item of the network. */
export type DeadLetterScope = string | undefined;

function inScope<T>(pool: Pool, cooperativeId: DeadLetterScope, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return cooperativeId === undefined ? inSystemTransaction(pool, work) : inTenantTransaction(pool, cooperativeId, work);
}

/**
 * Records a handed-over operation once per (type, business key): a repeat returns the first item as it
 * stands now, unchanged, so a settled item is not reopened.
 */
export function recordDeadLetter(pool: Pool, id: string, h: Omit<DeadLetterHandover, 'retryDelaysMs'>): Promise<{ id: string; status: DeadLetterStatus }> {
  return inSystemTransaction(pool, async (client) => {
    const inserted = await client.query<{ id: string; status: DeadLetterStatus }>(
      `INSERT INTO dead_letter_items (id, operation_type, business_key, cooperative_id, payload, last_error) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (operation_type, business_key) DO NOTHING RETURNING id, status`,
      [id, h.operationType, h.businessKey, h.cooperativeId, toJsonParam(h.payload), h.lastError],
    );
    if (inserted.rows[0]) return inserted.rows[0];
    const { rows } = await client.query<{ id: string; status: DeadLetterStatus }>('SELECT id, status FROM dead_letter_items WHERE operation_type = $1 AND business_key = $2', [h.operationType, h.businessKey]);
    return rows[0]!;
  });
}

export interface DeadLetterStep {
  itemId: string;
  /** The workflow's key for the step: the same step is recorded once, however often it is retried. */
  step: string;
  action: DeadLetterHistoryAction;
  from: DeadLetterStatus;
  to: DeadLetterStatus;
  actor?: string;
  note?: string;
  /** Whether the step ran the handler (counted as an attempt), and its error if it failed. */
  ran: boolean;
  error?: string;
}

/** Moves an item to its new status and appends the step to its history, once per step key. */
export async function applyDeadLetterStep(pool: Pool, s: DeadLetterStep): Promise<void> {
  await inSystemTransaction(pool, (client) =>
    client.query(
      `WITH logged AS (
         INSERT INTO dead_letter_actions (item_id, cooperative_id, step_key, action, actor, note, from_status, to_status, error)
         SELECT id, cooperative_id, $2, $3, $4, $5, $6, $7, $8 FROM dead_letter_items WHERE id = $1
         ON CONFLICT (item_id, step_key) DO NOTHING RETURNING item_id)
       UPDATE dead_letter_items SET status = $7, attempts = attempts + $9, last_error = COALESCE($8, last_error), updated_at = now()
        WHERE id IN (SELECT item_id FROM logged)`,
      [s.itemId, s.step, s.action, s.actor ?? null, s.note ?? null, s.from, s.to, s.error ?? null, s.ran ? 1 : 0],
    ),
  );
}

/** What a handler needs of an item: read by the worker, network-wide. */
export async function deadLetterWork(pool: Pool, id: string): Promise<{ operationType: DeadLetterOperationType; payload: Record<string, unknown> } | undefined> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<Pick<Row, 'operation_type' | 'payload'>>('SELECT operation_type, payload FROM dead_letter_items WHERE id = $1', [id]));
  return rows[0] && { operationType: rows[0].operation_type, payload: rows[0].payload };
}

/** An item with its history, if the scope shows it. */
export function findDeadLetterItem(pool: Pool, scope: DeadLetterScope, id: string): Promise<(DeadLetterItem & { history: DeadLetterHistoryEntry[] }) | undefined> {
  return inScope(pool, scope, async (client) => {
    const { rows } = await client.query<Row & { history: DeadLetterHistoryEntry[] }>(
      `SELECT i.*, COALESCE((SELECT json_agg(json_build_object('action', a.action, 'actor', a.actor, 'note', a.note, 'from', a.from_status, 'to', a.to_status, 'error', a.error, 'at', a.at) ORDER BY a.id)
                               FROM dead_letter_actions a WHERE a.item_id = i.id), '[]') AS history
         FROM dead_letter_items i WHERE i.id = $1`,
      [id],
    );
    return rows[0] && { ...toItem(rows[0]), history: rows[0].history };
  });
}

export interface DeadLetterFilter {
  status?: DeadLetterStatus;
  operationType?: DeadLetterOperationType;
  cooperativeId?: string;
}

/** Items the scope shows, newest first, filtered, by opaque cursor. */
export function listDeadLetterItems(pool: Pool, scope: DeadLetterScope, filter: DeadLetterFilter, options: { limit: number; cursor?: string }): Promise<Page<DeadLetterItem>> {
  const after = readCreationCursor(options.cursor);
  return inScope(pool, scope, async (client) => {
    const { rows } = await client.query<Row & { micros: string }>(
      `SELECT i.*, ${creationPosition.micros('i.created_at')} AS micros FROM dead_letter_items i
        WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.operation_type = $2) AND ($3::uuid IS NULL OR i.cooperative_id = $3)
          AND ${creationPosition.after('i.created_at', 'i.id', '$4', '$5')}
        ORDER BY i.created_at DESC, i.id DESC LIMIT $6`,
      [filter.status ?? null, filter.operationType ?? null, filter.cooperativeId ?? null, after?.micros ?? null, after?.id ?? null, options.limit + 1],
    );
    return toPage(rows, options.limit, (r) => [r.micros, r.id], toItem);
  });
}
