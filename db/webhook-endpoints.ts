import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../domain/errors';
import { isUuid } from '../domain/ids';
import type { EventSubscription, WebhookEndpointStatus } from '../domain/webhooks';
import { readCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import type { SecretBox } from './secret-box';
import { inTenantTransaction } from './transaction';

/**
 * Webhook endpoints and their signing secrets. A secret is made here, where it is stored (sealed, see
 * db/secret-box.ts), and shown to the caller only by the request that made it: its create or rotate
 * request, or that request's replay under the same idempotency key (the same principal; see README).
 */
export interface WebhookEndpoint {
  id: string;
  cooperativeId: string;
  url: string;
  eventTypes: EventSubscription[];
  description: string | null;
  status: WebhookEndpointStatus;
  createdAt: string;
  updatedAt: string;
  /** When the secret that signs now was made. */
  secretCreatedAt: string;
  /** Until when a replaced secret still signs beside it, if one does. */
  previousSecretExpiresAt: string | null;
}

/** An endpoint as its create or rotate request answers it: with the secret that request made. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
  replayed: boolean;
}

interface EndpointRow {
  id: string;
  cooperative_id: string;
  url: string;
  event_types: EventSubscription[];
  description: string | null;
  status: WebhookEndpointStatus;
  created_at: Date;
  updated_at: Date;
  secret_created_at: Date;
  previous_secret_expires_at: Date | null;
  position: string;
}

const SELECT_ENDPOINT = `
  SELECT e.id, e.cooperative_id, e.url, e.event_types, e.description, e.status, e.created_at, e.updated_at,
         (SELECT s.created_at FROM webhook_endpoint_secrets s WHERE s.endpoint_id = e.id AND s.expires_at IS NULL) AS secret_created_at,
         (SELECT max(s.expires_at) FROM webhook_endpoint_secrets s WHERE s.endpoint_id = e.id AND s.expires_at > now()) AS previous_secret_expires_at,
         (extract(epoch FROM e.created_at) * 1000000)::bigint::text AS position
    FROM webhook_endpoints e`;

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id, cooperativeId: row.cooperative_id, url: row.url, eventTypes: row.event_types, description: row.description, status: row.status,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(), secretCreatedAt: row.secret_created_at.toISOString(),
    previousSecretExpiresAt: row.previous_secret_expires_at?.toISOString() ?? null,
  };
}

/** A signing secret: `whsec_` and 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

interface SecretRow {
  id: string;
  endpoint_id: string;
  sealed: string;
  request_hash: string;
}

/** The secret a create or rotate request made under `key`. */
async function secretByKey(client: PoolClient, key: string): Promise<SecretRow | undefined> {
  return (await client.query<SecretRow>('SELECT id, endpoint_id, sealed, request_hash FROM webhook_endpoint_secrets WHERE idempotency_key = $1', [key])).rows[0];
}

async function insertSecret(client: PoolClient, box: SecretBox, input: { cooperativeId: string; endpointId: string; key: string; hash: string }): Promise<SecretRow> {
  const id = randomUUID();
  const { rows } = await client.query<SecretRow>(
    `INSERT INTO webhook_endpoint_secrets (id, cooperative_id, endpoint_id, sealed, idempotency_key, request_hash) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id, endpoint_id, sealed, request_hash`,
    [id, input.cooperativeId, input.endpointId, box.seal(newSecret(), id), input.key, input.hash],
  );
  return rows[0]!;
}

async function readEndpoint(client: PoolClient, id: string): Promise<WebhookEndpoint | undefined> {
  const { rows } = await client.query<EndpointRow>(`${SELECT_ENDPOINT} WHERE e.id = $1`, [id]);
  return rows[0] && toEndpoint(rows[0]);
}

/** What a create or rotate answers: the endpoint as it is now, and the secret that request made. */
async function answer(client: PoolClient, box: SecretBox, made: { row: SecretRow; replayed: boolean }): Promise<EndpointWithSecret> {
  return { endpoint: (await readEndpoint(client, made.row.endpoint_id))!, secret: box.open(made.row.sealed, made.row.id), replayed: made.replayed };
}

export interface CreateEndpointRequest {
  cooperativeId: string;
  url: string;
  eventTypes: EventSubscription[];
  description?: string;
  idempotencyKey: string;
}

/** Registers an endpoint with its first signing secret. Idempotent by key. */
export function createEndpoint(pool: Pool, box: SecretBox, req: CreateEndpointRequest): Promise<EndpointWithSecret> {
  const hash = requestHash('create-webhook-endpoint', req);
  return inTenantTransaction(pool, req.cooperativeId, async (client) => {
    const made = await idempotent(req.idempotencyKey, hash, () => secretByKey(client, req.idempotencyKey), async () => {
      const id = randomUUID();
      await client.query('INSERT INTO webhook_endpoints (id, cooperative_id, url, event_types, description) VALUES ($1, $2, $3, $4, $5)', [
        id, req.cooperativeId, req.url, req.eventTypes, req.description ?? null,
      ]);
      return insertSecret(client, box, { cooperativeId: req.cooperativeId, endpointId: id, key: req.idempotencyKey, hash });
    });
    return answer(client, box, made);
  });
}

export interface RotateSecretRequest {
  cooperativeId: string;
  endpointId: string;
  /** How long the secrets signing until now keep signing beside the new one (0: they stop now). */
  graceSeconds: number;
  idempotencyKey: string;
}

/**
 * Makes a new signing secret. Every secret still signing expires after the grace period (or keeps an
 * earlier expiry), so a receiver can roll over. Idempotent by key.
 */
export function rotateSecret(pool: Pool, box: SecretBox, req: RotateSecretRequest): Promise<EndpointWithSecret> {
  const hash = requestHash('rotate-webhook-secret', req);
  return inTenantTransaction(pool, req.cooperativeId, async (client) => {
    // Rotations of one endpoint take turns: each replaces the secret the previous one made.
    const { rowCount } = await client.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [req.endpointId]);
    if (!rowCount) throw new BusinessError('NOT_FOUND', 'Webhook endpoint not found');
    const made = await idempotent(req.idempotencyKey, hash, () => secretByKey(client, req.idempotencyKey), async () => {
      await client.query(
        `UPDATE webhook_endpoint_secrets SET expires_at = least(coalesce(expires_at, 'infinity'), now() + $2 * interval '1 second')
          WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
        [req.endpointId, req.graceSeconds],
      );
      return insertSecret(client, box, { cooperativeId: req.cooperativeId, endpointId: req.endpointId, key: req.idempotencyKey, hash });
    });
    return answer(client, box, made);
  });
}

export function findEndpoint(pool: Pool, cooperativeId: string, endpointId: string): Promise<WebhookEndpoint | undefined> {
  return inTenantTransaction(pool, cooperativeId, (client) => readEndpoint(client, endpointId));
}

/** A cooperative's endpoints, oldest first. */
export async function listEndpoints(pool: Pool, cooperativeId: string, options: { limit: number; cursor?: string }): Promise<Page<WebhookEndpoint>> {
  const after = readCursor(options.cursor, ([micros, id]) => {
    if (typeof micros !== 'string' || !/^\d{1,16}$/.test(micros) || typeof id !== 'string' || !isUuid(id)) throw new Error('not an endpoint position');
    return { micros, id };
  });
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<EndpointRow>(
      `${SELECT_ENDPOINT}
        WHERE $1::bigint IS NULL OR (e.created_at, e.id) > (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2::uuid)
        ORDER BY e.created_at, e.id LIMIT $3`,
      [after?.micros ?? null, after?.id ?? null, options.limit + 1],
    );
    return toPage(rows, options.limit, (r) => [r.position, r.id], toEndpoint);
  });
}

/** Disables or enables an endpoint; setting the status it already has changes nothing. */
export function setEndpointStatus(pool: Pool, cooperativeId: string, endpointId: string, status: WebhookEndpointStatus): Promise<WebhookEndpoint> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query('UPDATE webhook_endpoints SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2', [endpointId, status]);
    const endpoint = await readEndpoint(client, endpointId);
    if (!endpoint) throw new BusinessError('NOT_FOUND', 'Webhook endpoint not found');
    return endpoint;
  });
}

/**
 * The secrets that sign an endpoint's deliveries now, newest first, inside the caller's transaction.
 * Read at each attempt, so a rotation applies from the next delivery on.
 */
export async function signingSecrets(client: PoolClient, box: SecretBox, endpointId: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string; sealed: string }>(
    'SELECT id, sealed FROM webhook_endpoint_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id',
    [endpointId],
  );
  return rows.map((r) => box.open(r.sealed, r.id));
}
