import { listEconomicEvents } from '../../db/economic-events';
import { callerCooperative } from '../auth/authenticate';
import { EconomicEventBody, EconomicEventPage, EconomicEventQuery, EconomicEventView, economicEventView } from '../contracts/network';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';
import { recordEconomicEvent } from '../services/economic-events';

/** The economic event store (decision 0022): append-only, each type validated, decisions between cooperatives proven. */
export function economicEventRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'post', path: '/v1/events',
      summary: "Record an economic event for the caller's cooperative; one between cooperatives that records a decision needs the approved proposal as proof (its signed record is verified)", tag: 'Network',
      roles: ['coop_admin', 'service'], body: EconomicEventBody, idempotencyKey: 'required',
      responses: { 201: { description: 'Recorded', schema: EconomicEventView }, 200: { description: 'Replayed', schema: EconomicEventView } },
      async handler({ auth, body, idempotencyKey }) {
        const { event, created } = await recordEconomicEvent(deps, { cooperativeId: callerCooperative(auth), recordedBy: `${auth.role}:${auth.subject}`, body, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: economicEventView(event) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/events', summary: 'Economic and governance events in the order recorded, by type, aggregate and cooperative (those concerning your cooperative; operators: all)', tag: 'Network',
      roles: ['member', 'coop_admin', 'service', 'operator'], query: EconomicEventQuery, responses: { 200: { description: 'A page of events', schema: EconomicEventPage } },
      async handler({ auth, query }) {
        const networkWide = !auth.cooperativeId && (auth.role === 'operator' || auth.role === 'service');
        const page = await listEconomicEvents(deps.pool, {
          type: query.type, aggregateId: query.aggregate, cooperativeId: query.cooperative, visibleTo: networkWide ? undefined : [callerCooperative(auth)], cursor: query.cursor, limit: query.limit,
        });
        return { status: 200, body: { items: page.items.map(economicEventView), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
