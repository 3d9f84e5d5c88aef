import type { Pool, PoolClient, QueryResult } from 'pg';
import { LedgerError } from '../../domain/ledger-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ATTEMPTS = 8;

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/** A concurrent twin with the same idempotency key committed first: run again, and replay it. */
const IDEMPOTENCY_CONSTRAINTS = new Set([
  'transactions_cooperative_id_idempotency_key_key',
  'holds_cooperative_id_idempotency_key_key',
  'rate_cards_cooperative_id_idempotency_key_key',
]);

interface PgError {
  code?: string;
  constraint?: string;
}

function isRetryable(err: unknown): boolean {
  const e = err as PgError;
  return RETRYABLE.has(e.code ?? '') || (e.code === '23505' && IDEMPOTENCY_CONSTRAINTS.has(e.constraint ?? ''));
}

/** The database's own guards, reached only if application checks were bypassed or raced. */
function toLedgerError(err: unknown): unknown {
  const e = err as PgError;
  if (e.code === '23514' && (e.constraint === 'balance_not_negative' || e.constraint?.startsWith('lots_'))) {
    return new LedgerError('INSUFFICIENT_FUNDS', 'Insufficient credits');
  }
  if (e.code === '23505' && e.constraint === 'lots_cooperative_id_source_source_id_key') {
    return new LedgerError('CONFLICT', 'Credits from this source were already issued');
  }
  if (e.code === '23505' && e.constraint === 'staking_positions_pkey') return new LedgerError('CONFLICT', 'This staking position already exists');
  if (e.code === '23505' && e.constraint === 'transactions_reverses_transaction_id_key') return new LedgerError('CONFLICT', 'This transaction was already corrected');
  if (e.code === '23505' && e.constraint?.startsWith('rate_cards_')) return new LedgerError('CONFLICT', 'A rate card with this version or effective time already exists');
  return err;
}

/**
 * Runs `work` in one database transaction as the `coop_app` role, scoped by row-level security to
 * one cooperative. Deadlocks, serialization failures and idempotency-key races are retried with
 * jittered backoff; `work` must therefore be free of side effects outside the transaction.
 *
 * `opening` statements (their values already validated or escaped) travel in the same message as
 * BEGIN, one round trip for all; each runs with its own snapshot, so a read after a lock sees what the
 * lock protects. Their results are handed to `work`. Statements `work` passes to `defer` (values
 * validated or escaped, results not needed) travel with COMMIT, so they cost no round trip of their own.
 */
export async function inTenantTransaction<T>(
  pool: Pool,
  cooperativeId: string,
  work: (client: PoolClient, opened: QueryResult[], defer: (statement: string) => void) => Promise<T>,
  opening: string[] = [],
): Promise<T> {
  if (!UUID.test(cooperativeId)) throw new LedgerError('VALIDATION_ERROR', 'cooperativeId must be a UUID');
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      // Validated above, so the literal is safe; one round trip opens and scopes the transaction.
      // READ COMMITTED on purpose: each statement after a lock sees what the lock protects.
      const results = (await client.query([`BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${cooperativeId}'`, ...opening].join(';\n'))) as unknown as
        | QueryResult
        | QueryResult[];
      const closing: string[] = [];
      const result = await work(client, Array.isArray(results) ? results.slice(3) : [], (statement) => closing.push(statement));
      await client.query([...closing, 'COMMIT'].join(';\n'));
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (attempt < MAX_ATTEMPTS && isRetryable(err)) {
        await new Promise((r) => setTimeout(r, Math.random() * 2 ** attempt * 2));
        continue;
      }
      throw toLedgerError(err);
    } finally {
      client.release(broken);
    }
  }
}
