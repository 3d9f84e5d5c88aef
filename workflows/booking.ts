import { ApplicationFailure, condition, defineUpdate, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type { NetworkActivities } from '../activities/network';
import type { EconomicEventType } from '../domain/network/economic-events';
import { formatMicros } from '../domain/money';
import type { BookingSettlement, BookingStatus } from '../domain/network/resources';
import { settlement, settlementWorkflowId } from './settlement';

export interface BookingInput {
  bookingId: string;
  resourceId: string;
  ownerCooperativeId: string;
  requesterCooperativeId: string;
  requesterMemberId: string;
  /** µCLOUD the requester pays the owner cooperative: settled between the ledgers when they differ, held then charged within one. */
  cost: bigint;
  from: string;
  to: string;
  /** The proposal every affected cooperative decides, and when it closes; absent when the owner's access model books at once. */
  decision?: { proposalId: string; closesAt: string };
}

/** What refused an activity or child: the business failure's message when there is one. */
const refusal = (err: unknown) => (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;

export const cancelBooking = defineUpdate<{ status: 'cancelled' }>('cancel');
export const bookingWorkflowId = (bookingId: string) => `booking:${bookingId}`;
/** The exchange a booking's settlement is keyed by. */
export const bookingExchangeId = (bookingId: string) => `booking:${bookingId}`;

const { decideBooking, recordEconomicEvent, holdBookingCost, chargeBookingHold } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['INSUFFICIENT_FUNDS', 'NOT_FOUND', 'VALIDATION_ERROR', 'CONFLICT', 'IDEMPOTENCY_MISMATCH'] },
});
// A cancellation's compensation must happen: it retries until it does.
const { reverseSettlement, releaseBookingHold, refundBookingCharge } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['NOT_FOUND', 'VALIDATION_ERROR', 'IDEMPOTENCY_MISMATCH'] },
});
// Polled after the close: the proposal records its outcome moments after its deadline.
const { proposalOutcome } = proxyActivities<NetworkActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 1.5, maximumInterval: '1 minute', nonRetryableErrorTypes: ['NOT_FOUND'] },
});

/** How long a booking's cost is held beyond the decision it waits for (the outcome is polled after the close). */
const HOLD_MARGIN_SECONDS = 86_400;

/**
 * A booking, pending with its slot held from the request: it waits for the decision of every affected
 * cooperative (when one is needed), then settles the cost between the two ledgers and confirms the
 * slot, recording resource_exchange_* events with the decision's verified proof. A rejection, a
 * cancellation before settlement, or a settlement refused (for want of credits) releases the slot;
 * nothing has moved. A confirmed booking cancelled before its slot starts releases it too, and both
 * sides of its settlement are reversed. Within one cooperative (decision 0026) the cost is held on the
 * requester's wallet from the request, charged when the booking is confirmed, released when it is not,
 * and paid back by a correction when a confirmed booking is cancelled.
 */
export async function booking(input: BookingInput): Promise<BookingStatus> {
  let cancelled = false;
  let settling = false;
  let started = false;
  setHandler(cancelBooking, () => {
    cancelled = true;
    return { status: 'cancelled' as const };
  }, {
    validator: () => {
      if (settling || cancelled || started) throw ApplicationFailure.create({ type: 'CONFLICT', message: 'The booking can no longer be cancelled', nonRetryable: true });
    },
  });
  const cooperatives = [...new Set([input.requesterCooperativeId, input.ownerCooperativeId])];
  const record = (type: EconomicEventType, proposalId: string | null, extra: Record<string, unknown> = {}) =>
    recordEconomicEvent({
      type, cooperativeId: input.requesterCooperativeId, cooperatives, aggregateId: input.bookingId, amount: input.cost > 0n ? input.cost : null, proposalId, key: `booking:${input.bookingId}:${type}`,
      payload: { bookingId: input.bookingId, resourceId: input.resourceId, requesterMemberId: input.requesterMemberId, from: input.from, to: input.to, cost: formatMicros(input.cost), ...extra },
    });
  const withinOne = input.ownerCooperativeId === input.requesterCooperativeId;
  let holdId: string | undefined;
  const release = async (status: 'rejected' | 'cancelled' | 'failed', reason: string) => {
    if (holdId) await releaseBookingHold({ cooperativeId: input.requesterCooperativeId, holdId });
    await decideBooking({ bookingId: input.bookingId, status, reason });
    return status;
  };

  await record('resource_exchange_proposed', null, input.decision ? { proposalId: input.decision.proposalId } : {});
  if (withinOne && input.cost > 0n) {
    const untilDecided = input.decision ? Math.ceil(Math.max(Date.parse(input.decision.closesAt) - Date.now(), 0) / 1000) : 0;
    try {
      holdId = await holdBookingCost({
        bookingId: input.bookingId, cooperativeId: input.requesterCooperativeId, memberId: input.requesterMemberId, amount: input.cost, ttlSeconds: untilDecided + HOLD_MARGIN_SECONDS,
      });
    } catch (err) {
      return release('failed', `the cost could not be held: ${refusal(err)}`);
    }
  }
  const proposalId = input.decision?.proposalId ?? null;
  if (input.decision) {
    await condition(() => cancelled, Math.max(Date.parse(input.decision.closesAt) - Date.now(), 0));
    if (cancelled) return release('cancelled', 'cancelled before the decision');
    const outcome = await proposalOutcome(input.decision.proposalId);
    if (cancelled) return release('cancelled', 'cancelled before settlement');
    if (outcome === 'rejected') return release('rejected', `proposal ${input.decision.proposalId} was rejected`);
    await record('resource_exchange_approved', proposalId);
  } else if (cancelled) {
    return release('cancelled', 'cancelled before settlement');
  }

  settling = true;
  let settled: BookingSettlement | undefined;
  if (holdId) {
    try {
      settled = { holdId, transaction: await chargeBookingHold({ cooperativeId: input.requesterCooperativeId, holdId, amount: input.cost }) };
    } catch (err) {
      return release('failed', `the held cost could not be charged: ${refusal(err)}`);
    }
  } else if (input.cost > 0n && !withinOne) {
    const exchangeId = bookingExchangeId(input.bookingId);
    try {
      settled = await executeChild(settlement, {
        workflowId: settlementWorkflowId(exchangeId),
        args: [{ exchangeId, payerCooperativeId: input.requesterCooperativeId, payerMemberId: input.requesterMemberId, payeeCooperativeId: input.ownerCooperativeId, amount: input.cost, memo: `booking ${input.bookingId} of resource ${input.resourceId}` }],
      });
    } catch (err) {
      return release('failed', `settlement refused: ${refusal(err)}`);
    }
  }
  // Recorded before the booking shows confirmed, so a confirmed booking always has its events.
  await record('resource_exchange_executed', proposalId, settled ? { settlement: settled } : {});
  await decideBooking({ bookingId: input.bookingId, status: 'confirmed', ...(settled ? { settlement: settled } : {}) });

  // Until the slot starts, a cancellation still releases everything: both sides of the settlement are reversed.
  settling = false;
  if (!(await condition(() => cancelled, Math.max(Date.parse(input.from) - Date.now(), 0)))) {
    started = true;
    return 'confirmed';
  }
  settling = true;
  const reason = `booking ${input.bookingId} cancelled before it started`;
  if (settled && 'holdId' in settled) {
    await refundBookingCharge({ bookingId: input.bookingId, cooperativeId: input.requesterCooperativeId, transactionId: settled.transaction, reason });
  } else if (settled) {
    const exchangeId = bookingExchangeId(input.bookingId);
    await reverseSettlement({ exchangeId, cooperativeId: input.ownerCooperativeId, transactionId: settled.inTransaction, reason });
    await reverseSettlement({ exchangeId, cooperativeId: input.requesterCooperativeId, transactionId: settled.outTransaction, reason });
  }
  holdId = undefined; // charged: paid back above, nothing held any more
  return release('cancelled', 'cancelled after confirmation, before it started; the settlement was reversed');
}
