import { randomUUID } from 'node:crypto';
import { createBooking, findBooking, linkProposal } from '../../db/bookings';
import { findResource } from '../../db/resources';
import { formatMicros } from '../../domain/money';
import { bookingCost, needsDecision, scheduleCovers, scheduleRanges, weeklyRanges, type Booking } from '../../domain/network/resources';
import { booking as bookingWorkflow, bookingWorkflowId } from '../../workflows/booking';
import { startOnce } from '../await-workflow';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { openProposal } from './proposals';

export interface BookingRequest {
  resourceId: string;
  cooperativeId: string;
  memberId: string;
  from: Date;
  to: Date;
  idempotencyKey: string;
}

/**
 * Opens a booking: it holds its slot at once (the database refuses an overlapping one), then, when a
 * decision is needed, becomes a proposal every affected cooperative decides by its own rules, and its
 * workflow (booking:<id>) carries it to confirmed or released. Each step is idempotent, so a retried
 * request resumes where the first stopped.
 */
export async function requestBooking(deps: ApiDependencies, req: BookingRequest): Promise<{ booking: Booking; created: boolean }> {
  if (req.from.getTime() <= Date.now()) throw new ApiError('VALIDATION_ERROR', 'A booking starts in the future', [{ path: 'body.from', message: 'in the past' }]);
  const resource = await findResource(deps.pool, req.resourceId);
  if (!resource) throw new ApiError('NOT_FOUND', 'Resource not found');
  if (!scheduleCovers(scheduleRanges(resource.schedule), weeklyRanges(req.from, req.to))) {
    throw new ApiError('VALIDATION_ERROR', 'The resource is not available for the whole of this time (see its weekly availability)', [{ path: 'body.from', message: 'outside the availability schedule' }]);
  }
  const cost = bookingCost(resource.costModel, resource.costAmount, req.from, req.to);
  const { booking, created } = await createBooking(deps.pool, {
    id: randomUUID(), resourceId: resource.id, ownerCooperativeId: resource.cooperativeId, requesterCooperativeId: req.cooperativeId, requesterMemberId: req.memberId,
    from: req.from, to: req.to, cost, idempotencyKey: req.idempotencyKey,
  });
  if (booking.status !== 'pending') return { booking, created };
  let decision: { proposalId: string; closesAt: string } | undefined;
  if (needsDecision(resource, req.cooperativeId)) {
    const { proposal } = await openProposal(deps, {
      originCooperativeId: req.cooperativeId, proposer: req.memberId, idempotencyKey: `booking:${booking.id}`,
      body: {
        title: `Booking of ${resource.title}`,
        description: `Booking ${booking.id}: resource ${resource.id} of cooperative ${resource.cooperativeId}, from ${booking.from} to ${booking.to}, for ${formatMicros(cost)} CLOUD paid by a member of cooperative ${req.cooperativeId}.`,
        stakeholderCooperativeIds: [resource.cooperativeId],
      },
    });
    await linkProposal(deps.pool, booking.id, proposal.id);
    // Opened at once (never a draft), so it has its deadline.
    decision = { proposalId: proposal.id, closesAt: proposal.closesAt! };
  }
  await startOnce(deps, () =>
    deps.temporal.workflow.start(bookingWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: bookingWorkflowId(booking.id),
      args: [{
        bookingId: booking.id, resourceId: resource.id, ownerCooperativeId: resource.cooperativeId, requesterCooperativeId: req.cooperativeId, requesterMemberId: req.memberId,
        cost, from: booking.from, to: booking.to, ...(decision ? { decision } : {}),
      }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  return { booking: { ...booking, proposalId: decision?.proposalId ?? null }, created };
}

/** A booking as its requester's and its owner's cooperatives see it; NOT_FOUND for anyone else. */
export async function visibleBooking(deps: ApiDependencies, id: string, viewer: { cooperativeId?: string; operator: boolean }): Promise<Booking> {
  const b = await findBooking(deps.pool, id);
  if (!b || (!viewer.operator && viewer.cooperativeId !== b.requesterCooperativeId && viewer.cooperativeId !== b.ownerCooperativeId)) throw new ApiError('NOT_FOUND', 'Booking not found');
  return b;
}
