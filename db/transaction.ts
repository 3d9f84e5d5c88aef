import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { BusinessError } from '../domain/errors';
import { fromConstraint } from './constraint-errors';
import { isConcurrentDuplicate } from './idempotency';
import { isUuid } from '../domain/ids';
import { executeStatement, register, registeredStatements } from './prepared';
import { inline } from './inline';

/**
 * The one way db/ opens a transaction. Every exported function of db/ takes the pool and runs its work
 * through one of these two, so who opens the transaction is never in doubt:
 * - inTenantTransaction: as the `coop_app` role, scoped by row-level security to one cooperative;
 * - systemStatement: one statement on its own (its own transaction), for hot bookkeeping outside any
 *   cooperative such as rate-limit counters;
 * - inSystemTransaction: in the network scope (`app.scope`), for the few records that span cooperatives
 *   (cooperatives themselves, proposals between cooperatives, Stripe events before their purchase is
 *   known, governance keys, look-ups by a business id); row-level security allows nothing else there;
 * - writeInNetwork: the same scope, for a hot write sent whole in one message (a vote);
 * - inTenantSnapshot: read-only, one cooperative, on one snapshot (the integrity report);
 * - readInTenant: a few reads of one cooperative on one snapshot, sent with their transaction in one
 *   message (one round trip), for hot reads such as a balance.
 * The application logs in as `coop_app` (or a member of it), which cannot bypass row-level security.
 * Both run again on deadlocks, serialization failures and idempotency-key races (db/idempotency.ts),
 * so `work` must have no side effects outside the transaction, and both turn the database's guards
 * into business errors (db/constraint-errors.ts). Functions that take a PoolClient are building
 * blocks inside such a transaction and stay inside db/.
 */

const MAX_ATTEMPTS = 8;

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

function isRetryable(err: unknown): boolean {
  return RETRYABLE.has((err as { code?: string }).code ?? '') || isConcurrentDuplicate(err);
}

type Work<T> = (client: PoolClient, opened: QueryResult[], defer: (statement: string) => void) => Promise<T>;

/**
 * `begin` opens the transaction; `opening` statements (values already validated or escaped) travel in
 * the same message, one round trip for all, each with its own snapshot, so a read after a lock sees
 * what the lock protects; their results are handed to `work`. Statements `work` passes to `defer`
 * (values validated or escaped, results not needed) travel with COMMIT.
 */
async function run<T>(pool: Pool, begin: string[], work: Work<T> | undefined, opening: string[]): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await prepareOn(client).catch((err: unknown) => {
        // What the connection holds is unknown now: it is not reused.
        broken = true;
        throw err;
      });
      // Without work, COMMIT travels with the opening statements: the whole transaction is one message.
      const results = (await client.query([...begin, ...opening, ...(work ? [] : ['COMMIT'])].join(';\n'))) as unknown as QueryResult | QueryResult[];
      const opened = Array.isArray(results) ? results.slice(begin.length, begin.length + opening.length) : [];
      if (!work) return opened as T;
      const closing: string[] = [];
      const result = await work(client, opened, (statement) => closing.push(statement));
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
      throw fromConstraint(err);
    } finally {
      client.release(broken);
    }
  }
}

// READ COMMITTED on purpose: each statement after a lock sees what the lock protects.
const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/** The statements that put a transaction in one cooperative's scope as `coop_app`. */
function tenantScope(cooperativeId: string): string[] {
  if (!isUuid(cooperativeId)) throw new BusinessError('VALIDATION_ERROR', 'cooperativeId must be a UUID');
  // Validated above, so the literal is safe.
  return ['SET LOCAL ROLE coop_app', `SET LOCAL app.cooperative_id = '${cooperativeId}'`];
}

/** Runs `work` in one transaction as `coop_app`, seeing and writing only `cooperativeId`'s rows. */
export async function inTenantTransaction<T>(pool: Pool, cooperativeId: string, work: Work<T>, opening: string[] = []): Promise<T> {
  return run(pool, [BEGIN, ...tenantScope(cooperativeId)], work, opening);
}

/** The statements that put a transaction in the network scope as `coop_app`. */
const NETWORK_SCOPE = ['SET LOCAL ROLE coop_app', "SET LOCAL app.scope = 'network'"];

/** Runs `work` in one transaction in the network scope, across cooperatives (see above for when). */
export function inSystemTransaction<T>(pool: Pool, work: Work<T>, opening: string[] = []): Promise<T> {
  return run(pool, [BEGIN, ...NETWORK_SCOPE], work, opening);
}

/** Runs read-only `work` in one cooperative on one snapshot, so concurrent writes cannot make consistent data look broken. */
export async function inTenantSnapshot<T>(pool: Pool, cooperativeId: string, work: Work<T>): Promise<T> {
  return run(pool, ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...tenantScope(cooperativeId)], work, []);
}

const preparedOn = new WeakMap<PoolClient, Set<string>>();

/** Prepares on the connection, in one message, the registered statements (db/prepared.ts) it has not prepared yet. */
async function prepareOn(client: PoolClient): Promise<void> {
  let done = preparedOn.get(client);
  if (!done) preparedOn.set(client, (done = new Set()));
  const missing = [...registeredStatements()].filter(([name]) => !done.has(name));
  if (missing.length === 0) return;
  await client.query(missing.map(([name, text]) => `PREPARE ${name} AS ${text}`).join(';\n'));
  for (const [name] of missing) done.add(name);
}

/** A read for `readInTenant`: a prepared statement's name, its values, and how its rows become what the caller wants. */
export interface Read<T> {
  name: string;
  values: unknown[];
  map(rows: Record<string, unknown>[]): T;
}

export function read<T>(name: string, text: string, values: unknown[], map: (rows: never[]) => T): Read<T> {
  register(name, text);
  return { name, values, map: map as Read<T>['map'] };
}

type ReadResults<R extends readonly Read<unknown>[]> = { [K in keyof R]: R[K] extends Read<infer T> ? T : never };

/**
 * Reads of one cooperative on one snapshot, the transaction and its statements in one message: one round
 * trip (two the first time a connection runs them, to prepare them).
 */
export async function readInTenant<R extends readonly Read<unknown>[]>(pool: Pool, cooperativeId: string, reads: R): Promise<ReadResults<R>> {
  const results = await run<QueryResult[]>(pool, ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...tenantScope(cooperativeId)], undefined, reads.map((r) => executeStatement(r.name, r.values)));
  return reads.map((r, i) => r.map(results[i]!.rows)) as ReadResults<R>;
}

/**
 * Reads across cooperatives in the network scope, the transaction and its statements in one message (one
 * round trip instead of three). Nothing is prepared: each statement is planned for its own values, which
 * a statement whose filters are optional (`$1 IS NULL OR ...`) needs to use the indexes of the filters given.
 */
export function readInNetwork(pool: Pool, statements: ReadonlyArray<{ text: string; values: unknown[] }>): Promise<QueryResult[]> {
  return run<QueryResult[]>(pool, ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...NETWORK_SCOPE], undefined, statements.map((s) => inline(s.text, s.values)));
}

/**
 * Statements in the network scope sent with their transaction and its COMMIT in one message (one round
 * trip): for a hot write whose checks are conditions of its own statement, with nothing to decide between.
 */
export function writeInNetwork(pool: Pool, statements: string[]): Promise<QueryResult[]> {
  return run<QueryResult[]>(pool, [BEGIN, ...NETWORK_SCOPE], undefined, statements);
}

/** One statement, which is its own transaction: no BEGIN or COMMIT round trips. Errors map like the others'. */
export async function systemStatement<R extends QueryResultRow = QueryResultRow>(pool: Pool, text: string, values: unknown[]): Promise<QueryResult<R>> {
  try {
    return await pool.query<R>(text, values);
  } catch (err) {
    throw fromConstraint(err);
  }
}
