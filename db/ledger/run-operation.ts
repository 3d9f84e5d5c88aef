import type { Pool, PoolClient } from 'pg';
import type { LedgerTransaction } from '../../domain/ledger-types';
import { isSpendable } from '../../domain/lots';
import { lockAccountsStatement, resolveAccountsCached, type AccountRef, type ResolvedAccount } from './accounts';
import { FIRST_LOTS, firstSpendableLotsStatement, readSpendableLots, toWalletLots, type WalletLot } from './lots';
import { checkProbe, findTransaction, idempotencyProbeStatement } from './replay';
import { requestHash } from './request-hash';
import { inTenantTransaction } from './tenant-transaction';

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
}

/** What an operation touches, so the runner can lock and read it in the transaction's first round trip. */
export interface OperationSpec {
  accounts: AccountRef[];
  /** Indexes into `accounts` of the member accounts to lock (in id order). */
  lock?: number[];
  /** Index into `accounts` of the wallet whose spendable lots the operation needs. */
  lotsOf?: number;
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
 * then writes in one statement; then COMMIT.
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
    idempotencyProbeStatement(cooperativeId, idempotencyKey),
    ...(spec.lotsOf !== undefined ? [firstSpendableLotsStatement(accounts[spec.lotsOf]!.id)] : []),
  ];
  return inTenantTransaction(
    pool,
    cooperativeId,
    async (client, opened) => {
      const results = lockIds.length > 0 ? opened.slice(1) : opened;
      const earlier = checkProbe(results[0]!.rows, idempotencyKey, hash);
      if (earlier) return { transaction: (await findTransaction(client, earlier))!, replayed: true };
      const first = spec.lotsOf !== undefined ? toWalletLots(results[1]!.rows) : [];
      const now = new Date();
      const lots = async (covering?: bigint) => {
        const truncated = first.length === FIRST_LOTS;
        const enough = covering !== undefined && first.reduce((sum, l) => sum + (isSpendable(l, now) ? l.available : 0n), 0n) >= covering;
        return truncated && !enough ? readSpendableLots(client, accounts[spec.lotsOf!]!.id) : first;
      };
      const transaction = await work({ client, cooperativeId, idempotencyKey, requestHash: hash, now, accounts, lots });
      return { transaction, replayed: false };
    },
    opening,
  );
}
