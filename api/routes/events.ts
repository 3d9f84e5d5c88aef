import { readEvents } from '../../db/outbox';
import { requireCooperativeAccess } from '../auth/authenticate';
import { EventListQuery, EventPage, eventPageView } from '../contracts/events';
import { CooperativeScope } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';

export function eventRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/events',
      // Not members: a cooperative's events tell of every member's credits.
      summary: "A cooperative's events, in the order webhooks deliver them, for clients that poll instead",
      tag: 'Events',
      roles: ['coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      query: EventListQuery,
      responses: { 200: { description: 'A page of events', schema: EventPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: eventPageView(await readEvents(deps.pool, params.cooperativeId, { cursor: query.after, limit: query.limit, type: query.type })) };
      },
    }),
  ];
}
