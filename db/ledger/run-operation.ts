import type { Pool, PoolClient, QueryResult } from 'pg';
import type { LedgerTransaction } from '../../domain/ledger-types';
import { lockAccountsStatement, resolveAccountsCached, type AccountRef, type ResolvedAccount } from './accounts';
import { firstSpendableLotsStatement, lotsReader, toWalletLots, type WalletLot } from './lots';
import { replayOf, requestHash } from '../idempotency';
import { findTransaction, idempotencyProbeStatement } from './replay';
import { inTenantTransaction } from '../transaction';
import { writeTransactionStatement, type TransactionPlan } from './write-transaction';

export interface OperationContext {
  client: PoolClient;
  cooperativeId: string;
  idempotencyKey: string;
  requestHash: string;
  now: Date;
  /** The spec's accounts, resolved, in order. */
  accounts: ResolvedAccount[];
  /**
   * Spendable lots of the spec's `lotsOf` account in consumption order, read after its lock was taken:
   * the first FIRST_LOTS of them, or all of them when asked for more than those hold.
   */
  lots(covering?: bigint): Promise<WalletLot[]>;
  /** Results of the spec's `reads`, in order. */
  reads: QueryResult[];
  /**
   * Writes the operation's ledger transaction with the COMMIT, in the same message: for an operation
   * that reads nothing after its write, a round trip less. The write's errors surface at commit and map
   * as any other; its `createdAt` is the transaction's start, as the database records it.
   */
  write(plan: TransactionPlan): LedgerTransaction;
}

/** What an operation touches, so the runner can lock and read it in the transaction's first round trip. */
export interface OperationSpec {
  accounts: AccountRef[];
  /** Indexes into `accounts` of the member accounts to lock (in id order). */
  lock?: number[];
  /** Index into `accounts` of the wallet whose spendable lots the operation needs. */
  lotsOf?: number;
  /** More reads for the opening batch (values validated or escaped), such as the rate in force, given the resolved accounts. */
  reads?: string[] | ((accounts: ResolvedAccount[]) => string[]);
}

export interface LedgerResult {
  transaction: LedgerTransaction;
  /** True when the key had been used before and this is the first result again. */
  replayed: boolean;
}

/**
 * The shape every posting operation shares: in one tenant transaction, replay the key's first result
 * if there is one, otherwise do the work, which writes exactly one ledger transaction under the key.
 * One round trip opens the transaction, takes the locks, probes the key and reads the lots; the work
 * then writes in one statement, sent with the COMMIT when it uses `write`.
 */
export async function runIdempotent(
  pool: Pool,
  cooperativeId: string,
  operation: string,
  idempotencyKey: string,
  request: unknown,
  spec: OperationSpec,
  work: (ctx: OperationContext) => Promise<LedgerTransaction>,
): Promise<LedgerResult> {
  const hash = requestHash(operation, { cooperativeId, ...(request as object) });
  const accounts = spec.accounts.length > 0 ? await resolveAccountsCached(pool, cooperativeId, spec.accounts) : [];
  const lockIds = (spec.lock ?? []).map((i) => accounts[i]!.id);
  const opening = [
    ...(lockIds.length > 0 ? [lockAccountsStatement(lockIds)] : []),
    idempotencyProbeStatement(cooperativeId, [idempotencyKey]),
    'SELECT now() AS started_at',
    ...(spec.lotsOf !== undefined ? [firstSpendableLotsStatement([accounts[spec.lotsOf]!.id])] : []),
    ...(typeof spec.reads === 'function' ? spec.reads(accounts) : (spec.reads ?? [])),
  ];
  return inTenantTransaction(
    pool,
    cooperativeId,
    async (client, opened, defer) => {
      const [probe, started, ...rest] = lockIds.length > 0 ? opened.slice(1) : opened;
      const earlier = replayOf(probe!.rows[0] as { id: string; requestHash: string } | undefined, hash, idempotencyKey);
      if (earlier) return { transaction: (await findTransaction(client, earlier.id))!, replayed: true };
      const now = new Date();
      const hasLots = spec.lotsOf !== undefined;
      const lots = hasLots ? lotsReader(client, accounts[spec.lotsOf!]!.id, toWalletLots(rest[0]!.rows), now) : async () => [];
      const reads = rest.slice(hasLots ? 1 : 0);
      const startedAt = (started!.rows[0] as { started_at: Date }).started_at;
      const write = (plan: TransactionPlan) => {
        const { statement, transaction } = writeTransactionStatement(plan, startedAt);
        defer(statement);
        return transaction;
      };
      const transaction = await work({ client, cooperativeId, idempotencyKey, requestHash: hash, now, accounts, lots, reads, write });
      return { transaction, replayed: false };
    },
    opening,
  );
}
