/**
 * The one list of domain event types. Every ledger or governance change writes one of these to the
 * outbox in its own transaction; webhooks, the events API and endpoint subscriptions use the same names.
 * The database holds outbox.event_type to this list.
 */
export const EVENT_TYPES = [
  'cloud.minted',
  'cloud.transferred',
  'cloud.redeemed',
  'cloud.held',
  'cloud.released',
  'cloud.burned',
  'cloud.clawed_back',
  'cloud.corrected',
  'cloud.expired',
  'cloud.staked',
  'cloud.unstaked',
  'revenue.distributed',
  'rate_card.created',
  'revenue_rule.activated',
  'proposal.decided',
  'reconciliation.alert',
  'staking_terms.updated',
  'campaign.created',
  'correction.proposed',
  'correction.rejected',
  'correction.expired',
  'stream.sampled',
  'stream.price_unavailable',
  'period.closed',
  'cloud.settled',
  'economic_event.recorded',
  'booking.updated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** An event as the change that causes it records it: the aggregate orders delivery. */
export interface DomainEvent {
  type: EventType;
  /** The entity the event is about (a member, a position, a proposal…); delivery keeps commit order per aggregate. */
  aggregateId: string;
  payload: Record<string, unknown>;
}
