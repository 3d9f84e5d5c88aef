import type { WebhookEndpoint } from '../../db/webhook-endpoints';
import { EVENT_TYPES } from '../../domain/events';
import { ALL_EVENT_TYPES, DEFAULT_SECRET_GRACE_SECONDS, MAX_SECRET_GRACE_SECONDS, WEBHOOK_ENDPOINT_STATUSES } from '../../domain/webhooks';
import { SafeText, Uuid } from './common';
import { z } from './zod';

export const WebhookEndpointParams = z.strictObject({ cooperativeId: Uuid, endpointId: Uuid });

/** An absolute http(s) URL without credentials (they would be logged and stored in clear) or fragment. */
const WebhookUrl = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http or https URL' });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials: verify deliveries by their signature' });
    if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a fragment' });
  })
  .openapi({ format: 'uri', example: 'https://apps.example.org/hooks/coop-credits' });

const Subscription = z.enum([...EVENT_TYPES, ALL_EVENT_TYPES]);

const EventTypes = z
  .array(Subscription)
  .min(1)
  .max(EVENT_TYPES.length)
  .superRefine((types, ctx) => {
    if (new Set(types).size !== types.length) ctx.addIssue({ code: 'custom', message: 'must not repeat a type' });
    if (types.includes(ALL_EVENT_TYPES) && types.length > 1) ctx.addIssue({ code: 'custom', message: `'${ALL_EVENT_TYPES}' (every type, present and future) stands alone` });
  })
  .openapi({ description: `event types to receive, or ['${ALL_EVENT_TYPES}'] for every type, including types added later`, example: ['cloud.minted', 'cloud.transferred'] });

export const CreateWebhookEndpointBody = z
  .strictObject({
    url: WebhookUrl,
    eventTypes: EventTypes,
    description: SafeText(1, 500).optional(),
  })
  .openapi('CreateWebhookEndpoint');

export const RotateWebhookSecretBody = z
  .strictObject({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_SECRET_GRACE_SECONDS)
      .default(DEFAULT_SECRET_GRACE_SECONDS)
      .openapi({ description: 'how long the secrets signing until now keep signing beside the new one (default 24 hours; 0 stops them now)' }),
  })
  .openapi('RotateWebhookSecret');

export const WebhookEndpointView = z
  .object({
    id: Uuid,
    cooperativeId: Uuid,
    url: z.string(),
    eventTypes: z.array(Subscription),
    description: z.string().nullable(),
    status: z.enum(WEBHOOK_ENDPOINT_STATUSES),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    secretCreatedAt: z.iso.datetime(),
    previousSecretExpiresAt: z.iso.datetime().nullable().openapi({ description: 'until when a replaced secret still signs beside the current one' }),
  })
  .openapi('WebhookEndpoint');

export const WebhookEndpointWithSecretView = WebhookEndpointView.extend({
  secret: z.string().openapi({ description: 'the signing secret this request made: shown by this response (and its replay) only', example: 'whsec_…' }),
}).openapi('WebhookEndpointWithSecret');

export const WebhookEndpointPage = z.object({ items: z.array(WebhookEndpointView), nextCursor: z.string().nullable() }).openapi('WebhookEndpointPage');

export const WebhookEndpointListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

export const webhookEndpointView = (endpoint: WebhookEndpoint): z.infer<typeof WebhookEndpointView> => ({ ...endpoint });
