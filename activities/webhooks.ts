import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { postWebhook } from '../clients/webhook-http';
import { signatureHeader } from '../clients/webhook-signature';
import type { SecretBox } from '../db/secret-box';
import { markDeadLettered, pendingDeliveries, recordDelivered, recordFailedAttempt, startAttempt } from '../db/webhook-deliveries';
import { WEBHOOK_HEADERS, webhookEventBody, type EndpointRef } from '../domain/webhooks';
import { asActivity } from './business-failure';

export interface WebhookActivityDependencies {
  pool: Pool;
  /** Opens the endpoints' sealed signing secrets. */
  secrets: SecretBox;
  allowPrivateTargets: boolean;
}

/** A receiver has this long to answer; the activity's own timeout leaves room for the database around it. */
export const WEBHOOK_HTTP_TIMEOUT_MS = 10_000;

export interface DeliveryRef {
  deliveryId: string;
  cooperativeId: string;
}

/** How one attempt ended, when it did not fail: delivered (now or before), or not tried because the endpoint is disabled. */
export type AttemptOutcome = 'delivered' | 'endpoint_disabled';

/**
 * One attempt at one delivery: counted, signed with the endpoint's current secrets, POSTed once. A 2xx
 * marks it delivered; anything else (another status, no answer in time, a refused address) is recorded
 * and thrown, so the caller's retries decide what comes next. Delivering one that is already delivered
 * does nothing, which makes every retry, and a dead-letter retry racing the workflow, safe.
 */
async function attemptDelivery(deps: WebhookActivityDependencies, ref: DeliveryRef): Promise<AttemptOutcome> {
  const attempt = await startAttempt(deps.pool, deps.secrets, ref.cooperativeId, ref.deliveryId);
  if (attempt.kind !== 'send') return attempt.kind;
  const body = JSON.stringify(webhookEventBody(attempt.event));
  const headers = {
    [WEBHOOK_HEADERS.signature]: signatureHeader(attempt.secrets, body, Math.floor(Date.now() / 1000)),
    [WEBHOOK_HEADERS.eventId]: attempt.event.eventId,
    [WEBHOOK_HEADERS.eventType]: attempt.event.type,
    [WEBHOOK_HEADERS.attempt]: String(attempt.attempt),
  };
  let failure: string;
  try {
    const status = await postWebhook({ url: attempt.url, headers, body, timeoutMs: WEBHOOK_HTTP_TIMEOUT_MS, allowPrivateTargets: deps.allowPrivateTargets });
    if (status >= 200 && status < 300) {
      await recordDelivered(deps.pool, ref.cooperativeId, ref.deliveryId);
      return 'delivered';
    }
    failure = `the endpoint answered HTTP ${status}`;
  } catch (err) {
    failure = `no answer from the endpoint: ${err instanceof Error ? err.message : String(err)}`;
  }
  await recordFailedAttempt(deps.pool, ref.cooperativeId, ref.deliveryId, failure);
  throw ApplicationFailure.retryable(failure, 'WebhookDeliveryFailed');
}

/** The activities of the per-endpoint delivery workflow (workflows/webhook-delivery.ts). */
export function createWebhookActivities(deps: WebhookActivityDependencies) {
  return {
    pendingWebhookDeliveries: (input: EndpointRef & { limit: number }) => pendingDeliveries(deps.pool, input, input.limit),
    deliverWebhook: (ref: DeliveryRef) => asActivity(() => attemptDelivery(deps, ref)),
    markWebhookDeadLettered: (ref: DeliveryRef) => markDeadLettered(deps.pool, ref.cooperativeId, ref.deliveryId),
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;

/**
 * The dead-letter queue's handler for `webhook_delivery` items (payload: deliveryId, cooperativeId):
 * one more attempt, which throws unless the delivery is delivered. An endpoint disabled since is a
 * failure too: the item waits in manual review until the endpoint is enabled again or an operator
 * discards it.
 */
export function deliverWebhookOnce(deps: WebhookActivityDependencies) {
  return async (payload: Record<string, unknown>): Promise<void> => {
    const { deliveryId, cooperativeId } = payload;
    if (typeof deliveryId !== 'string' || typeof cooperativeId !== 'string') throw ApplicationFailure.nonRetryable('the stored payload names no delivery', 'VALIDATION_ERROR');
    const outcome = await asActivity(() => attemptDelivery(deps, { deliveryId, cooperativeId }));
    if (outcome === 'endpoint_disabled') throw ApplicationFailure.nonRetryable('the webhook endpoint is disabled', 'WebhookEndpointDisabled');
  };
}
