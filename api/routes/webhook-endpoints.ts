import { secretBox } from '../../db/secret-box';
import { createEndpoint, findEndpoint, listEndpoints, rotateSecret, setEndpointStatus } from '../../db/webhook-endpoints';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import {
  CreateWebhookEndpointBody, RotateWebhookSecretBody, WebhookEndpointListQuery, WebhookEndpointPage, WebhookEndpointParams, WebhookEndpointView,
  WebhookEndpointWithSecretView, webhookEndpointView,
} from '../contracts/webhooks';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { enableEndpoint } from '../services/webhook-endpoints';

const TAG = 'Webhook endpoints';
/** A cooperative's admins manage its endpoints; operators any cooperative's. */
const ROLES = ['coop_admin', 'operator'] as const;
const BASE = '/v1/cooperatives/:cooperativeId/webhook-endpoints';

export function webhookEndpointRoutes(deps: ApiDependencies) {
  const secrets = secretBox(deps.config.webhooks.secretsKey);
  return [
    defineRoute({
      method: 'post',
      path: BASE,
      summary: 'Register a webhook endpoint; the response shows its signing secret, once',
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      body: CreateWebhookEndpointBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result, secret included', schema: WebhookEndpointWithSecretView }, 201: { description: 'Registered', schema: WebhookEndpointWithSecretView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const made = await createEndpoint(deps.pool, secrets, { cooperativeId: params.cooperativeId, url: body.url, eventTypes: body.eventTypes, description: body.description, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(made.replayed));
        return { status: made.replayed ? 200 : 201, body: { ...webhookEndpointView(made.endpoint), secret: made.secret } };
      },
    }),
    defineRoute({
      method: 'get',
      path: BASE,
      summary: "A cooperative's webhook endpoints, oldest first, paginated by cursor (never their secrets)",
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      query: WebhookEndpointListQuery,
      responses: { 200: { description: 'A page of endpoints', schema: WebhookEndpointPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listEndpoints(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(webhookEndpointView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${BASE}/:endpointId`,
      summary: 'A webhook endpoint (never its secret)',
      tag: TAG,
      roles: ROLES,
      params: WebhookEndpointParams,
      responses: { 200: { description: 'The endpoint', schema: WebhookEndpointView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const endpoint = await findEndpoint(deps.pool, params.cooperativeId, params.endpointId);
        if (!endpoint) throw new ApiError('NOT_FOUND', 'Webhook endpoint not found');
        return { status: 200, body: webhookEndpointView(endpoint) };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${BASE}/:endpointId/rotate-secret`,
      summary: 'Make a new signing secret, shown once; the previous one keeps signing beside it for a grace period',
      tag: TAG,
      roles: ROLES,
      params: WebhookEndpointParams,
      body: RotateWebhookSecretBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Rotated (or replayed: the first result, secret included)', schema: WebhookEndpointWithSecretView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const made = await rotateSecret(deps.pool, secrets, { cooperativeId: params.cooperativeId, endpointId: params.endpointId, graceSeconds: body.graceSeconds, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(made.replayed));
        return { status: 200, body: { ...webhookEndpointView(made.endpoint), secret: made.secret } };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${BASE}/:endpointId/disable`,
      summary: 'Stop delivering to an endpoint: events from now on are not queued for it, and queued ones wait until it is enabled',
      tag: TAG,
      roles: ROLES,
      params: WebhookEndpointParams,
      responses: { 200: { description: 'Disabled (repeating it changes nothing)', schema: WebhookEndpointView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: webhookEndpointView(await setEndpointStatus(deps.pool, params.cooperativeId, params.endpointId, 'disabled')) };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${BASE}/:endpointId/enable`,
      summary: 'Deliver to an endpoint again, starting with the deliveries queued before it was disabled',
      tag: TAG,
      roles: ROLES,
      params: WebhookEndpointParams,
      responses: { 200: { description: 'Enabled (repeating it changes nothing)', schema: WebhookEndpointView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: webhookEndpointView(await enableEndpoint(deps, params.cooperativeId, params.endpointId)) };
      },
    }),
  ];
}
