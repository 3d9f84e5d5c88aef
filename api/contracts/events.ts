import type { EventFeedPage } from '../../db/outbox';
import { EVENT_TYPES } from '../../domain/events';
import { webhookEventBody } from '../../domain/webhooks';
import { Uuid } from './common';
import { z } from './zod';

/** The same shape as a webhook's body (domain/webhooks.ts). */
export const EventView = z
  .object({
    id: Uuid.openapi({ description: 'stable: deduplicate on it' }),
    type: z.enum(EVENT_TYPES),
    cooperativeId: Uuid,
    aggregateId: z.string(),
    sequence: z.string().openapi({ description: 'the outbox sequence number, a decimal string', example: '1042' }),
    createdAt: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

export const EventPage = z
  .object({
    items: z.array(EventView),
    nextCursor: z.string().nullable().openapi({ description: 'pass as `after` to continue: after the last item, or where this request started when nothing new has settled yet; null only before the first event' }),
    hasMore: z.boolean().openapi({ description: 'more events follow now; otherwise poll again later with nextCursor' }),
  })
  .openapi('EventPage');

export const EventListQuery = z.strictObject({
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  type: z.enum(EVENT_TYPES).optional(),
});

export const eventPageView = (page: EventFeedPage): z.infer<typeof EventPage> => ({ items: page.items.map(webhookEventBody), nextCursor: page.nextCursor, hasMore: page.hasMore });
