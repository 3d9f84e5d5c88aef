import type { PoolClient } from 'pg';
import type { LedgerEntry, LedgerTransaction, LotSource, TransactionType } from '../../domain/ledger-types';
import type { DomainEvent } from '../../domain/events';
import type { LotCategory } from '../../domain/lots';
import { toJsonParam } from '../json';

export interface LotChange {
  lotId: string;
  /** Growth of the lot itself: credits merged into an open lot (db/ledger/ops/transfer.ts). */
  original?: bigint;
  available: bigint;
  reserved: bigint;
  consumed: bigint;
}

export interface NewLot {
  id: string;
  accountId: string;
  memberId: string;
  source: LotSource;
  sourceId: string;
  category: LotCategory;
  priority: number;
  expiresAt: Date | null;
  parentLotId: string | null;
  amount: bigint;
}

export interface TransactionPlan {
  id: string;
  cooperativeId: string;
  type: TransactionType;
  idempotencyKey: string;
  requestHash: string;
  reversesTransactionId?: string;
  metadata: Record<string, unknown>;
  entries: LedgerEntry[];
  /** Deltas applied to existing lots. */
  lotChanges?: LotChange[];
  newLots?: NewLot[];
  /** Credits this transaction took out of (positive) or put into (negative) each lot. */
  movements?: Array<{ lotId: string; amount: bigint }>;
  events: DomainEvent[];
}

/** Lot changes as adjust_lots (migration 1763802400000) takes them: each applied by primary key. */
export function lotChangesParam(changes: LotChange[]): string {
  return toJsonParam(changes.map((c) => ({ id: c.lotId, og: c.original ?? 0n, av: c.available, rs: c.reserved, cs: c.consumed })));
}

/**
 * Writes a whole ledger transaction in one statement: the transaction, its entries (in account order,
 * which is also the order balance rows are locked in), lot changes, new lots, lot movements and the
 * outbox events. Balances follow from the entries by trigger; balance per currency is checked at commit.
 */
export async function writeTransaction(client: PoolClient, plan: TransactionPlan): Promise<LedgerTransaction> {
  const entries = plan.entries.filter((e) => e.amount !== 0n).sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  const { rows } = await client.query<{ created_at: Date }>({
    // Named: parsed and planned once per connection, not on every write.
    name: 'ledger-write-transaction',
    text: `WITH tx AS (
       INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash, reverses_transaction_id, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING created_at
     ), e AS (
       INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount)
       SELECT $1, $2, x.a, x.c, x.v FROM jsonb_to_recordset($8::jsonb) AS x(a uuid, c text, v bigint, n integer) ORDER BY x.n
     ), lc AS (
       SELECT adjust_lots($9::jsonb)
     ), nl AS (
       INSERT INTO lots (id, cooperative_id, account_id, member_id, source, source_id, category, priority, expires_at, parent_lot_id, transaction_id, original, available)
       SELECT x.id, $2, x.account_id, x.member_id, x.source, x.source_id, x.category, x.priority, x.expires_at, x.parent_lot_id, $1, x.amount, x.amount
         FROM jsonb_to_recordset($10::jsonb) AS x(id uuid, account_id uuid, member_id uuid, source text, source_id text, category text, priority integer,
                                                  expires_at timestamptz, parent_lot_id uuid, amount bigint)
     ), mv AS (
       INSERT INTO lot_movements (transaction_id, lot_id, cooperative_id, amount)
       SELECT $1, x.lot_id, $2, x.amount FROM jsonb_to_recordset($11::jsonb) AS x(lot_id uuid, amount bigint)
     ), ob AS (
       INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
       SELECT $2, x.t, x.g, x.p FROM jsonb_to_recordset($12::jsonb) AS x(t text, g text, p jsonb)
     )
     SELECT created_at FROM tx, lc`,
    values: [
      plan.id,
      plan.cooperativeId,
      plan.type,
      plan.idempotencyKey,
      plan.requestHash,
      plan.reversesTransactionId ?? null,
      toJsonParam(plan.metadata),
      toJsonParam(entries.map((e, n) => ({ a: e.accountId, c: e.currency, v: e.amount, n }))),
      lotChangesParam(plan.lotChanges ?? []),
      toJsonParam(
        (plan.newLots ?? []).map((l) => ({
          id: l.id, account_id: l.accountId, member_id: l.memberId, source: l.source, source_id: l.sourceId, category: l.category,
          priority: l.priority, expires_at: l.expiresAt, parent_lot_id: l.parentLotId, amount: l.amount,
        })),
      ),
      toJsonParam((plan.movements ?? []).map((m) => ({ lot_id: m.lotId, amount: m.amount }))),
      toJsonParam(plan.events.map((ev) => ({ t: ev.type, g: ev.aggregateId, p: ev.payload }))),
    ],
  });
  return {
    id: plan.id,
    cooperativeId: plan.cooperativeId,
    type: plan.type,
    idempotencyKey: plan.idempotencyKey,
    reversesTransactionId: plan.reversesTransactionId ?? null,
    metadata: plan.metadata,
    createdAt: rows[0]!.created_at.toISOString(),
    entries,
  };
}
