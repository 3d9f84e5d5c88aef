import { createHash } from 'node:crypto';
import { canonical } from '../domain/canonical-json';
import { BusinessError } from '../domain/errors';

/**
 * Idempotency, decided in one place. Every idempotent write stores its key and the hash of the request
 * it came from beside the record it creates, unique per cooperative. A later request with the key is:
 * - new: no record holds the key, so the write runs;
 * - a replay: the record holds it for the same request, so its first result is returned and nothing changes;
 * - a mismatch: the record holds it for another request, refused with IDEMPOTENCY_MISMATCH;
 * - in flight: a twin holding the key has not committed yet. The key's unique index makes this one wait;
 *   when the twin commits, this transaction fails on the index (isConcurrentDuplicate), runs again
 *   (db/transaction.ts) and replays the twin's result.
 * Work that goes on in a workflow after the record is written is joined, not repeated: the workflow
 * runs under the record's business id, started with USE_EXISTING and REJECT_DUPLICATE.
 */

/** Who sent a request. Keys are scoped to it, as Stripe scopes them to the caller: two principals never share one. */
export interface Principal {
  role: string;
  subject: string;
}

/**
 * The stored form of a key a client chose: in the `client:` namespace (no client can claim a key the
 * system uses internally, such as `purchase:<id>:mint`) and scoped to the principal. The subject is
 * percent-encoded so it holds no `:` and the scope cannot be forged by a subject or a key.
 */
export function clientKey(principal: Principal, key: string): string {
  return `client:${principal.role}:${encodeURIComponent(principal.subject)}:${key}`;
}

/** Longest stored key: a client's key of up to 255 characters with its scope (transactions' CHECK says the same). */
const MAX_STORED_KEY = 1024;

/** Defensive check for callers that bypass the API's contracts (workflows, scripts). */
export function requireKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STORED_KEY) throw new BusinessError('VALIDATION_ERROR', `idempotency key must be 1-${MAX_STORED_KEY} characters`);
}

/** The hash a key is bound to: the operation and everything it was asked to do. */
export function requestHash(operation: string, request: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonical(request)}`).digest('hex');
}

/** The record an earlier use of the key wrote, if this request replays it; IDEMPOTENCY_MISMATCH if it was another request. */
export function replayOf<T extends { requestHash: string }>(earlier: T | undefined, hash: string, key: string): T | undefined {
  if (earlier === undefined) return undefined;
  if (earlier.requestHash !== hash) throw new BusinessError('IDEMPOTENCY_MISMATCH', `Idempotency key '${visibleKey(key)}' was already used for a different request`);
  return earlier;
}

/** A key as clients see it (in records and messages): a client key keeps its namespace and loses its scope, so no principal's identity leaks. */
export function visibleKey(stored: string): string {
  return stored.startsWith('client:') ? `client:${stored.split(':').slice(3).join(':')}` : stored;
}

/**
 * A write keyed by `key` inside the caller's transaction: `find` reads the row the key wrote, if any;
 * the same request replays it, another request is refused, and a new key runs `create`, which writes
 * the row (with `key` and `hash`) and reads it back.
 */
export async function idempotent<R extends { request_hash: string }>(
  key: string,
  hash: string,
  find: () => Promise<R | undefined>,
  create: () => Promise<R>,
): Promise<{ row: R; replayed: boolean }> {
  const earlier = await find();
  if (replayOf(earlier && { requestHash: earlier.request_hash }, hash, key)) return { row: earlier!, replayed: true };
  return { row: await create(), replayed: false };
}

/** The unique indexes that hold idempotency keys (and one-per-business-id records). */
export const IDEMPOTENCY_KEY_CONSTRAINTS: ReadonlySet<string> = new Set([
  'transactions_cooperative_id_idempotency_key_key',
  'holds_cooperative_id_idempotency_key_key',
  'rate_cards_cooperative_id_idempotency_key_key',
  'credit_purchases_cooperative_id_idempotency_key_key',
  'revenue_rules_cooperative_id_idempotency_key_key',
  'proposals_origin_cooperative_id_idempotency_key_key',
  'webhook_endpoint_secrets_cooperative_id_idempotency_key_key',
  'campaigns_cooperative_id_idempotency_key_key',
  'corrections_cooperative_id_idempotency_key_key',
  'streams_cooperative_id_idempotency_key_key',
  'stream_samples_cooperative_id_idempotency_key_key',
  'manual_token_prices_cooperative_id_idempotency_key_key',
  'economic_events_cooperative_id_idempotency_key_key',
  'resources_cooperative_id_idempotency_key_key',
  'bookings_requester_cooperative_id_idempotency_key_key',
]);

/** A twin with the same key committed first: run the transaction again, and it replays. */
export function isConcurrentDuplicate(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && IDEMPOTENCY_KEY_CONSTRAINTS.has(e.constraint ?? '');
}
