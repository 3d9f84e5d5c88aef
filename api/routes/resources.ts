import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { listBookings } from '../../db/bookings';
import { createResource, findResource, searchResources } from '../../db/resources';
import { scheduleRanges, weeklyRanges } from '../../domain/network/resources';
import { bookingWorkflowId, cancelBooking } from '../../workflows/booking';
import { callerCooperative, listedMember, type AuthContext } from '../auth/authenticate';
import { BookingListQuery, BookingPage, BookingParams, BookingRequestBody, BookingView, bookingView, ResourceBody, ResourcePage, ResourceParams, ResourceSearchQuery, ResourceView, resourceView } from '../contracts/network';
import { CooperativeScope } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { runUpdate } from '../await-workflow';
import { requestBooking, visibleBooking } from '../services/bookings';

const viewer = (auth: AuthContext) => ({ ...(auth.cooperativeId ? { cooperativeId: auth.cooperativeId } : {}), operator: auth.role === 'operator' && !auth.cooperativeId });

/** Shared resources: registered by their owner cooperative, discovered and booked across the network (decision 0022). */
export function resourceRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'post', path: '/v1/resources', summary: "Share a resource of the caller's cooperative with the network: type, description, location, weekly availability (UTC), access model, cost in CLOUD", tag: 'Network',
      roles: ['coop_admin'], body: ResourceBody, idempotencyKey: 'required', responses: { 201: { description: 'Shared', schema: ResourceView }, 200: { description: 'Replayed', schema: ResourceView } },
      async handler({ auth, body, idempotencyKey }) {
        const { resource, created } = await createResource(deps.pool, {
          id: randomUUID(), cooperativeId: callerCooperative(auth), type: body.type, title: body.title, description: body.description, location: body.location,
          schedule: body.availability, ranges: scheduleRanges(body.availability), accessModel: body.accessModel, costModel: body.cost.model,
          costAmount: body.cost.model === 'free' ? 0n : body.cost.amount, createdBy: auth.subject, idempotencyKey: idempotencyKey!,
        });
        return { status: created ? 201 : 200, body: resourceView(resource) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/resources/search', summary: 'Discover resources across the network: words, type, location prefix, and free for the whole of [from, to)', tag: 'Network',
      roles: ['member', 'coop_admin', 'service', 'operator'], query: ResourceSearchQuery, responses: { 200: { description: 'A page of resources, newest first', schema: ResourcePage } },
      async handler({ query }) {
        const available = query.from && query.to ? { from: query.from, to: query.to, ranges: weeklyRanges(query.from, query.to) } : undefined;
        const page = await searchResources(deps.pool, { text: query.q, type: query.type, location: query.location, available, cursor: query.cursor, limit: query.limit });
        return { status: 200, body: { items: page.items.map(resourceView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/resources/:resourceId', summary: 'A shared resource', tag: 'Network',
      roles: ['member', 'coop_admin', 'service', 'operator'], params: ResourceParams, responses: { 200: { description: 'The resource', schema: ResourceView } },
      async handler({ params }) {
        const resource = await findResource(deps.pool, params.resourceId);
        if (!resource) throw new ApiError('NOT_FOUND', 'Resource not found');
        return { status: 200, body: resourceView(resource) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/resources/:resourceId/request',
      summary: "Book a resource for [from, to) (booking:<id>): at once under its owner's open access model, otherwise after every affected cooperative approves; the cost is settled between the ledgers", tag: 'Network',
      roles: ['member'], params: ResourceParams, body: BookingRequestBody, idempotencyKey: 'required',
      responses: { 201: { description: 'Booking opened (pending)', schema: BookingView }, 200: { description: 'Replayed', schema: BookingView } },
      async handler({ auth, params, body, idempotencyKey }) {
        const { booking, created } = await requestBooking(deps, { resourceId: params.resourceId, cooperativeId: callerCooperative(auth), memberId: auth.subject, from: body.from, to: body.to, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: bookingView(booking) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/cooperatives/:cooperativeId/bookings',
      summary: "A cooperative's bookings, as requester or as owner of the resource (a member: their own requests), newest first; by status, resource, requesting member and a time range the slot overlaps", tag: 'Network',
      roles: ['member', 'coop_admin', 'service', 'operator'], params: CooperativeScope, query: BookingListQuery, responses: { 200: { description: 'A page of bookings', schema: BookingPage } },
      async handler({ auth, params, query }) {
        const memberId = listedMember(auth, params.cooperativeId, query.memberId);
        const page = await listBookings(deps.pool, {
          cooperativeId: params.cooperativeId, status: query.status, resourceId: query.resourceId, memberId, from: query.from, to: query.to, cursor: query.cursor, limit: query.limit,
        });
        return { status: 200, body: { items: page.items.map(bookingView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/bookings/:bookingId', summary: "A booking, for its requester's and its owner's cooperatives", tag: 'Network',
      roles: ['member', 'coop_admin', 'service', 'operator'], params: BookingParams, responses: { 200: { description: 'The booking', schema: BookingView } },
      async handler({ auth, params }) {
        return { status: 200, body: bookingView(await visibleBooking(deps, params.bookingId, viewer(auth))) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/bookings/:bookingId/cancel', summary: 'Cancel a booking before its slot starts: the slot is released, and a settled cost is paid back in both ledgers', tag: 'Network',
      roles: ['member', 'coop_admin'], params: BookingParams, responses: { 202: { description: 'Cancelling', schema: BookingView } },
      async handler({ auth, params }) {
        const booking = await visibleBooking(deps, params.bookingId, viewer(auth));
        const mayCancel = auth.role === 'member' ? auth.subject === booking.requesterMemberId : auth.cooperativeId === booking.requesterCooperativeId;
        if (!mayCancel) throw new ApiError('FORBIDDEN', 'Only the requester (or an admin of their cooperative) cancels a booking');
        try {
          await runUpdate(deps, () => deps.temporal.workflow.getHandle(bookingWorkflowId(booking.id)).startUpdate(cancelBooking, { waitForStage: 'ACCEPTED' }));
        } catch (err) {
          throw apiErrorFromWorkflowFailure(err) ?? (err instanceof WorkflowNotFoundError ? new ApiError('CONFLICT', `The booking is already ${booking.status}`) : err);
        }
        return { status: 202, body: bookingView(booking) };
      },
    }),
  ];
}
