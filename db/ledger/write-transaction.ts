import type { PoolClient } from 'pg';
import type { LedgerEntry, LedgerTransaction, LotSource, TransactionType } from '../../domain/ledger-types';
import type { DomainEvent } from '../../domain/events';
import type { LotCategory } from '../../domain/lots';
import { toJsonParam } from '../json';
import { prepared } from '../prepared';

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

/** Lot changes as adjust_lots (migration 1763803300000) takes them: each lot once, applied in one UPDATE by primary key. */
export function lotChangesParam(changes: LotChange[]): string {
  return toJsonParam(changes.map((c) => ({ id: c.lotId, og: c.original ?? 0n, av: c.available, rs: c.reserved, cs: c.consumed })));
}

const byAccount = (a: LedgerEntry, b: LedgerEntry) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0);

/**
 * Writes whole ledger transactions of one cooperative in one statement, however many: the
 * transactions, their entries (in account order across all of them, which is also the order balance
 * rows are locked in), lot changes (summed per lot), new lots, lot movements and the outbox events.
 * Balances follow from the entries by trigger; each transaction's balance per currency is checked at
 * commit. A batch costs one round trip, which is what lets a sampling run post thousands of samples.
 */
const WRITE_TRANSACTIONS = `WITH tx AS (
       INSERT INTO transactions (id, cooperative_id, type, idempotency_key, request_hash, reverses_transaction_id, metadata)
       SELECT x.id, $1, x.type, x.key, x.hash, x.rev, x.meta FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, type text, key text, hash text, rev uuid, meta jsonb)
       RETURNING id, created_at
     ), e AS (
       INSERT INTO entries (transaction_id, cooperative_id, account_id, currency, amount)
       SELECT x.t, $1, x.a, x.c, x.v FROM jsonb_to_recordset($3::jsonb) AS x(t uuid, a uuid, c text, v bigint, n integer) ORDER BY x.n
     ), lc AS (
       SELECT adjust_lots($4::jsonb)
     ), nl AS (
       INSERT INTO lots (id, cooperative_id, account_id, member_id, source, source_id, category, priority, expires_at, parent_lot_id, transaction_id, original, available)
       SELECT x.id, $1, x.account_id, x.member_id, x.source, x.source_id, x.category, x.priority, x.expires_at, x.parent_lot_id, x.t, x.amount, x.amount
         FROM jsonb_to_recordset($5::jsonb) AS x(id uuid, t uuid, account_id uuid, member_id uuid, source text, source_id text, category text, priority integer,
                                                 expires_at timestamptz, parent_lot_id uuid, amount bigint)
     ), mv AS (
       INSERT INTO lot_movements (transaction_id, lot_id, cooperative_id, amount)
       SELECT x.t, x.lot_id, $1, x.amount FROM jsonb_to_recordset($6::jsonb) AS x(t uuid, lot_id uuid, amount bigint)
     ), ob AS (
       INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
       SELECT $1, x.t, x.g, x.p FROM jsonb_to_recordset($7::jsonb) AS x(t text, g text, p jsonb, n integer) ORDER BY x.n
     )
     SELECT id, created_at FROM tx, lc`;

/** Prepared on every connection, for the write that travels with COMMIT (writeTransactionStatement). */
const writeTransactionsPrepared = prepared('ledger_write_transactions', WRITE_TRANSACTIONS);

/** The statement's values and, once written at `createdAt`, the transactions as the ledger returns them. */
function written(plans: readonly TransactionPlan[]): { values: unknown[]; transactions(createdAt: (id: string) => string): LedgerTransaction[] } {
  if (plans.length === 0) throw new RangeError('nothing to write');
  const cooperativeId = plans[0]!.cooperativeId;
  if (plans.some((p) => p.cooperativeId !== cooperativeId)) throw new RangeError('a batch of ledger transactions belongs to one cooperative');
  const entriesOf = plans.map((p) => p.entries.filter((e) => e.amount !== 0n).sort(byAccount));
  const entries = entriesOf.flatMap((list, i) => list.map((e) => ({ t: plans[i]!.id, e }))).sort((a, b) => byAccount(a.e, b.e));
  const lotChanges = new Map<string, LotChange>();
  for (const c of plans.flatMap((p) => p.lotChanges ?? [])) {
    const sum = lotChanges.get(c.lotId);
    lotChanges.set(c.lotId, sum ? { lotId: c.lotId, original: (sum.original ?? 0n) + (c.original ?? 0n), available: sum.available + c.available, reserved: sum.reserved + c.reserved, consumed: sum.consumed + c.consumed } : c);
  }
  return {
    values: [
      cooperativeId,
      toJsonParam(plans.map((p) => ({ id: p.id, type: p.type, key: p.idempotencyKey, hash: p.requestHash, rev: p.reversesTransactionId ?? null, meta: p.metadata }))),
      toJsonParam(entries.map(({ t, e }, n) => ({ t, a: e.accountId, c: e.currency, v: e.amount, n }))),
      lotChangesParam([...lotChanges.values()]),
      toJsonParam(
        plans.flatMap((p) =>
          (p.newLots ?? []).map((l) => ({
            id: l.id, t: p.id, account_id: l.accountId, member_id: l.memberId, source: l.source, source_id: l.sourceId, category: l.category,
            priority: l.priority, expires_at: l.expiresAt, parent_lot_id: l.parentLotId, amount: l.amount,
          })),
        ),
      ),
      toJsonParam(plans.flatMap((p) => (p.movements ?? []).map((m) => ({ t: p.id, lot_id: m.lotId, amount: m.amount })))),
      toJsonParam(plans.flatMap((p) => p.events).map((ev, n) => ({ t: ev.type, g: ev.aggregateId, p: ev.payload, n }))),
    ],
    transactions: (createdAt) =>
      plans.map((plan, i) => ({
        id: plan.id,
        cooperativeId: plan.cooperativeId,
        type: plan.type,
        idempotencyKey: plan.idempotencyKey,
        reversesTransactionId: plan.reversesTransactionId ?? null,
        metadata: plan.metadata,
        createdAt: createdAt(plan.id),
        entries: entriesOf[i]!,
      })),
  };
}

/** Writes one ledger transaction: see writeTransactions. */
export async function writeTransaction(client: PoolClient, plan: TransactionPlan): Promise<LedgerTransaction> {
  return (await writeTransactions(client, [plan]))[0]!;
}

/** Writes whole ledger transactions of one cooperative in one statement, now (see WRITE_TRANSACTIONS). */
export async function writeTransactions(client: PoolClient, plans: readonly TransactionPlan[]): Promise<LedgerTransaction[]> {
  if (plans.length === 0) return [];
  const write = written(plans);
  // Parameters through the extended protocol: a batch's values can be large, and need no quoting there.
  // So this is a protocol-level prepared statement beside the SQL-prepared one: PostgreSQL binds no
  // parameters into `EXECUTE name($1, …)`, so the SQL-prepared one takes only inlined literals.
  const { rows } = await client.query<{ id: string; created_at: Date }>({ name: 'ledger-write-transactions', text: WRITE_TRANSACTIONS, values: write.values });
  const createdAt = new Map(rows.map((r) => [r.id, r.created_at.toISOString()]));
  return write.transactions((id) => createdAt.get(id)!);
}

/**
 * One ledger transaction as a statement that travels with its COMMIT (db/transaction.ts `defer`), for an
 * operation that reads nothing after its write: a round trip less. Its rows carry `created_at`, the
 * transaction's start (`now()`), which the caller read in its opening batch and passes as `startedAt`.
 */
export function writeTransactionStatement(plan: TransactionPlan, startedAt: Date): { statement: string; transaction: LedgerTransaction } {
  const write = written([plan]);
  return { statement: writeTransactionsPrepared(...write.values), transaction: write.transactions(() => startedAt.toISOString())[0]! };
}
