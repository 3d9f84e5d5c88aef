import type { Client } from '@temporalio/client';
import type { Config } from '../config/config';
import { DELIVERIES_PENDING_SIGNAL, WEBHOOK_DELIVERY_WORKFLOW_TYPE, webhookDeliveryWorkflowId, type EndpointRef, type WebhookDeliveryInput } from '../domain/webhooks';

/** Tells endpoints' delivery workflows that deliveries are pending. */
export type WakeDeliveries = (endpoints: readonly EndpointRef[]) => Promise<void>;

/** At most this many signals in flight at once, so a publish that touched many endpoints does not flood Temporal. */
const CONCURRENT_SIGNALS = 16;

/**
 * Wakes each endpoint's delivery workflow (`webhooks:<endpointId>`) with signal-with-start: a running
 * one takes the signal, and one that has completed (idle) or never ran starts anew. Used by the outbox
 * relay, the outbox sweep and the API (re-enabling an endpoint), which name the workflow by its
 * registered type because activities and the API do not load workflow code.
 */
export function webhookDeliveryWaker(client: Client, config: Pick<Config, 'temporal' | 'deadLetter'>): WakeDeliveries {
  const wake = (endpoint: EndpointRef) => {
    const input: WebhookDeliveryInput = { endpointId: endpoint.endpointId, cooperativeId: endpoint.cooperativeId, deadLetterRetryDelaysMs: config.deadLetter.retryDelaysMs };
    return client.workflow.signalWithStart(WEBHOOK_DELIVERY_WORKFLOW_TYPE, {
      workflowId: webhookDeliveryWorkflowId(endpoint.endpointId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
      signal: DELIVERIES_PENDING_SIGNAL,
      signalArgs: [],
    });
  };
  return async (endpoints) => {
    for (let i = 0; i < endpoints.length; i += CONCURRENT_SIGNALS) await Promise.all(endpoints.slice(i, i + CONCURRENT_SIGNALS).map(wake));
  };
}
