import { inline } from '../inline';
import type { PoolClient } from 'pg';
import type { Currency } from '../../domain/money';
import type { LedgerTransaction, TransactionType } from '../../domain/ledger-types';
import { creationPosition, type CreationPosition } from '../cursor';

interface Row {
  id: string;
  cooperative_id: string;
  type: TransactionType;
  idempotency_key: string;
  request_hash: string;
  reverses_transaction_id: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  entries: Array<{ accountId: string; accountCode: string; memberId: string | null; currency: Currency; amount: string }>;
}

const SELECT_TRANSACTION = `
  SELECT t.id, t.cooperative_id, t.type, t.idempotency_key, t.request_hash, t.reverses_transaction_id, t.metadata, t.created_at,
         COALESCE(json_agg(json_build_object('accountId', e.account_id, 'accountCode', a.code, 'memberId', a.member_id,
                                             'currency', e.currency, 'amount', e.amount::text) ORDER BY e.id)
                  FILTER (WHERE e.id IS NOT NULL), '[]') AS entries
    FROM transactions t
    LEFT JOIN entries e ON e.transaction_id = t.id
    LEFT JOIN accounts a ON a.id = e.account_id`;

function toTransaction(row: Row): LedgerTransaction {
  return {
    id: row.id,
    cooperativeId: row.cooperative_id,
    type: row.type,
    idempotencyKey: row.idempotency_key,
    reversesTransactionId: row.reverses_transaction_id,
    metadata: row.metadata,
    createdAt: row.created_at.toISOString(),
    entries: row.entries.map((e) => ({ ...e, amount: BigInt(e.amount) })),
  };
}

export async function findTransaction(client: PoolClient, id: string): Promise<LedgerTransaction | undefined> {
  return (await findTransactions(client, [id])).get(id);
}

/** Transactions by id, in one statement (a batch's replays). */
export async function findTransactions(client: PoolClient, ids: readonly string[]): Promise<Map<string, LedgerTransaction>> {
  const { rows } = await client.query<Row>({ name: 'ledger-find-transactions', text: `${SELECT_TRANSACTION} WHERE t.id = ANY($1::uuid[]) GROUP BY t.id`, values: [ids] });
  return new Map(rows.map((r) => [r.id, toTransaction(r)]));
}

/** The idempotency probe for one key or a batch's keys, as a statement for an opening batch. */
export function idempotencyProbeStatement(cooperativeId: string, keys: readonly string[]): string {
  // Planned for its keys each time, not prepared: a kept (generic) plan cannot know how many keys there
  // are, and where every cooperative looks small it may prefer the cooperative's index to the key's.
  return inline('SELECT id, idempotency_key AS "key", request_hash AS "requestHash" FROM transactions WHERE cooperative_id = $1 AND idempotency_key = ANY($2::text[])', [
    cooperativeId,
    keys,
  ]);
}

/** Transactions touching any of the accounts, newest first, strictly after `after`, each with its position (db/cursor.ts). */
export async function transactionsPage(
  client: PoolClient,
  accountIds: string[],
  limit: number,
  after?: CreationPosition,
): Promise<Array<{ transaction: LedgerTransaction; position: CreationPosition }>> {
  const { rows } = await client.query<Row & { micros: string }>(
    `${SELECT_TRANSACTION.replace('SELECT t.id,', `SELECT ${creationPosition.micros('t.created_at')} AS micros, t.id,`)}
      WHERE t.id IN (SELECT transaction_id FROM entries WHERE account_id = ANY($1::uuid[]))
        AND ${creationPosition.after('t.created_at', 't.id', '$3', '$4')}
      GROUP BY t.id ORDER BY t.created_at DESC, t.id DESC LIMIT $2`,
    [accountIds, limit, after?.micros ?? null, after?.id ?? null],
  );
  return rows.map((r) => ({ transaction: toTransaction(r), position: { micros: r.micros, id: r.id } }));
}
