import type { Pool, PoolClient } from 'pg';
import type { LedgerTransaction } from '../../domain/ledger-types';
import { findByIdempotencyKey } from './replay';
import { requestHash } from './request-hash';
import { inTenantTransaction } from './tenant-transaction';

export interface OperationContext {
  client: PoolClient;
  cooperativeId: string;
  idempotencyKey: string;
  requestHash: string;
  now: Date;
}

export interface LedgerResult {
  transaction: LedgerTransaction;
  /** True when the key had been used before and this is the first result again. */
  replayed: boolean;
}

/**
 * The shape every posting operation shares: in one tenant transaction, replay the key's first result
 * if there is one, otherwise do the work, which writes exactly one ledger transaction under the key.
 */
export async function runIdempotent(
  pool: Pool,
  cooperativeId: string,
  operation: string,
  idempotencyKey: string,
  request: unknown,
  work: (ctx: OperationContext) => Promise<LedgerTransaction>,
): Promise<LedgerResult> {
  const hash = requestHash(operation, { cooperativeId, ...(request as object) });
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const earlier = await findByIdempotencyKey(client, cooperativeId, idempotencyKey, hash);
    if (earlier) return { transaction: earlier, replayed: true };
    const transaction = await work({ client, cooperativeId, idempotencyKey, requestHash: hash, now: new Date() });
    return { transaction, replayed: false };
  });
}
