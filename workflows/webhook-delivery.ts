import { condition, continueAsNew, defineQuery, defineSignal, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DeliveryRef, WebhookActivities } from '../activities/webhooks';
import { DELIVERIES_PENDING_SIGNAL, type WebhookDeliveryInput, type WebhookDeliveryRunStatus } from '../domain/webhooks';
import { unlessFailed } from './activity-outcome';
import { handOverToDeadLetter } from './dead-letter-handover';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface WebhookDeliveryState {
  status: WebhookDeliveryRunStatus;
  /** Deliveries this run delivered, and handed to the dead-letter queue. */
  delivered: number;
  deadLettered: number;
}

export const deliveriesPending = defineSignal(DELIVERIES_PENDING_SIGNAL);
export const webhookDeliveryState = defineQuery<WebhookDeliveryState>('state');

const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Deliveries read per listing: small enough for a short activity, large enough to rarely list. */
const LISTING = 100;

// Local activities: run by the worker that runs the workflow, without a round trip through the
// server's activity queue for each, which would bound an endpoint to a few deliveries a second and
// add that much to every delivery's latency (bench/webhook-bench.ts). A worker lost mid-delivery
// sends it again on replay: deliveries are at least once anyway.
const { pendingWebhookDeliveries, markWebhookDeadLettered } = proxyLocalActivities<WebhookActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});
// Each POST gets a few quick attempts; a receiver that is down for longer is the dead-letter queue's
// (its retries are minutes apart), so one failing delivery holds the endpoint's others back only seconds.
const { deliverWebhook } = proxyLocalActivities<WebhookActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * The delivery workflow of one endpoint (`webhooks:<endpointId>`): delivers its pending deliveries one
 * at a time, in the order their events were committed, so each aggregate's events arrive in order.
 * Woken by a signal when the outbox relay (or sweep) gives it deliveries; idle for `idleTimeoutMs`, it
 * completes, and the next wake-up (signal-with-start) starts a new run. At least once: a delivery
 * whose answer was lost is sent again, with the same event id.
 */
export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryState> {
  const state: WebhookDeliveryState = { status: 'delivering', delivered: 0, deadLettered: 0 };
  let woken = false;
  setHandler(deliveriesPending, () => void (woken = true));
  setHandler(webhookDeliveryState, () => state);
  const setStatus = (status: WebhookDeliveryRunStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: BusinessStatus, value: status }]);
  };
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: state.status }]);

  for (;;) {
    // A wake-up that arrives while this listing runs is kept, so it is never lost between listing and waiting.
    woken = false;
    const pending = await pendingWebhookDeliveries({ endpointId: input.endpointId, cooperativeId: input.cooperativeId, limit: LISTING });
    if (pending.length === 0) {
      setStatus('idle');
      if (!(await condition(() => woken, input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS))) return state;
      setStatus('delivering');
      continue;
    }
    for (const deliveryId of pending) {
      const ref: DeliveryRef = { deliveryId, cooperativeId: input.cooperativeId };
      const outcome = await unlessFailed(() => deliverWebhook(ref));
      if (outcome.error === undefined) {
        // Disabled meanwhile: the next listing finds nothing until the endpoint is enabled again.
        if (outcome.value === 'endpoint_disabled') break;
        state.delivered++;
        continue;
      }
      // Retries spent: the dead-letter queue keeps trying (minutes apart, then an operator), and the
      // endpoint's later deliveries go on meanwhile.
      await markWebhookDeadLettered(ref);
      await handOverToDeadLetter({
        operationType: 'webhook_delivery', businessKey: `webhook_delivery:${deliveryId}`, cooperativeId: input.cooperativeId,
        payload: { ...ref }, lastError: outcome.error, retryDelaysMs: input.deadLetterRetryDelaysMs,
      });
      state.deadLettered++;
    }
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof webhookDelivery>(input);
  }
}
