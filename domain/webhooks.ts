import type { EventType } from './events';

/**
 * Outbound webhooks: the closed lists, the body every receiver gets, and how the per-endpoint delivery
 * workflow is named. The signature scheme is in clients/webhook-signature.ts (it needs node:crypto,
 * which domain/ does not load).
 */
export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

/** pending → delivered, or pending → dead_lettered (→ delivered when a dead-letter retry succeeds). */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'dead_lettered'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** What the delivery workflow of an endpoint is doing, as its BusinessStatus search attribute says. */
export const WEBHOOK_DELIVERY_RUN_STATUSES = ['delivering', 'idle'] as const;
export type WebhookDeliveryRunStatus = (typeof WEBHOOK_DELIVERY_RUN_STATUSES)[number];

/** An endpoint subscribes to a list of event types, or to every type (present and future) with this one entry. */
export const ALL_EVENT_TYPES = '*';
export type EventSubscription = EventType | typeof ALL_EVENT_TYPES;

/** The headers of every delivery, beside Content-Type: application/json. */
export const WEBHOOK_HEADERS = {
  signature: 'Coop-Signature',
  eventId: 'Coop-Event-Id',
  eventType: 'Coop-Event-Type',
  /** 1 on the first attempt, counting every attempt since, including dead-letter retries. */
  attempt: 'Coop-Delivery-Attempt',
} as const;

/** How long a replaced signing secret keeps signing beside the new one, unless the rotation says otherwise. */
export const DEFAULT_SECRET_GRACE_SECONDS = 24 * 3600;
export const MAX_SECRET_GRACE_SECONDS = 7 * 24 * 3600;

/** An event as the outbox holds it, in the order readers take it. */
export interface OutboxEvent {
  /** The outbox row's id: unique, and increasing with the order events of one aggregate were written in. */
  sequence: bigint;
  /** The writing transaction's id: events are read in (xid, sequence) order. */
  xid: bigint;
  eventId: string;
  type: EventType;
  cooperativeId: string;
  aggregateId: string;
  createdAt: string;
  payload: Record<string, unknown>;
}

/** The JSON body of a webhook, and an item of the events API: the same shape in both. */
export interface WebhookEventBody {
  /** Stable across redeliveries: receivers deduplicate on it. */
  id: string;
  type: EventType;
  cooperativeId: string;
  aggregateId: string;
  /** The outbox sequence number, as a decimal string. */
  sequence: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export function webhookEventBody(event: OutboxEvent): WebhookEventBody {
  return {
    id: event.eventId,
    type: event.type,
    cooperativeId: event.cooperativeId,
    aggregateId: event.aggregateId,
    sequence: event.sequence.toString(),
    createdAt: event.createdAt,
    data: event.payload,
  };
}

/**
 * The per-endpoint delivery workflow, named here because activities and the API signal it without
 * importing workflow code (test/unit/webhooks.test.ts holds the workflow to these names).
 */
export const WEBHOOK_DELIVERY_WORKFLOW_TYPE = 'webhookDelivery';
export const DELIVERIES_PENDING_SIGNAL = 'deliveriesPending';
export const webhookDeliveryWorkflowId = (endpointId: string) => `webhooks:${endpointId}`;

/** An endpoint, with the cooperative whose scope its records are read in. */
export interface EndpointRef {
  endpointId: string;
  cooperativeId: string;
}

export interface WebhookDeliveryInput {
  endpointId: string;
  cooperativeId: string;
  /** How long the workflow waits for more deliveries before it completes (default 5 minutes). */
  idleTimeoutMs?: number;
  /** The dead-letter queue's retry delays for deliveries handed to it (default the queue's own). */
  deadLetterRetryDelaysMs?: number[];
}
