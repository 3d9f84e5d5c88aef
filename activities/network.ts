import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { decideBooking } from '../db/bookings';
import { appendEconomicEvent } from '../db/economic-events';
import { findProposal } from '../db/governance';
import { verifyGovernanceProof } from '../db/governance-proof';
import { findHold } from '../db/holds';
import { correct, reserveHold, resolveHold, reverseSettlement, settleIn, settleOut } from '../db/ledger';
import { BusinessError } from '../domain/errors';
import type { EconomicEventType } from '../domain/network/economic-events';
import type { BookingSettlement, BookingStatus } from '../domain/network/resources';
import type { SettlementRequest } from '../domain/network/settlement';
import { asActivity } from './business-failure';

export interface RecordEventInput {
  type: EconomicEventType;
  cooperativeId: string;
  cooperatives: string[];
  aggregateId: string;
  amount: bigint | null;
  payload: Record<string, unknown>;
  /** The approved proposal to verify and attach as proof, if the event is a decision. */
  proposalId: string | null;
  /** The business key: the same event is recorded once however often the step runs. */
  key: string;
}

export function createNetworkActivities(pool: Pool) {
  return {
    /** The payer's side of a settlement, in its own books (idempotent by exchange). */
    settleOut: (req: SettlementRequest): Promise<string> => asActivity(async () => (await settleOut(pool, req)).transaction.id),
    /** The payee's side of a settlement, in its own books (idempotent by exchange). */
    settleIn: (req: SettlementRequest): Promise<string> => asActivity(async () => (await settleIn(pool, req)).transaction.id),
    /** Compensation: reverses one side already posted, once. */
    reverseSettlement: (req: { exchangeId: string; cooperativeId: string; transactionId: string; reason: string }): Promise<string> =>
      asActivity(async () => (await reverseSettlement(pool, req)).transaction.id),

    /**
     * Within one cooperative, the requester pays the owner cooperative (decision 0026): the booking's
     * cost is held on the member's wallet from the request, keyed by the booking.
     */
    holdBookingCost: (input: { bookingId: string; cooperativeId: string; memberId: string; amount: bigint; ttlSeconds: number }): Promise<string> =>
      asActivity(async () => {
        const { hold } = await reserveHold(pool, {
          cooperativeId: input.cooperativeId, memberId: input.memberId, amount: input.amount, ttlSeconds: input.ttlSeconds,
          idempotencyKey: `booking:${input.bookingId}:hold`, metadata: { bookingId: input.bookingId },
        });
        return hold.id;
      }),
    /** Charges the whole held cost when the booking is confirmed (a redemption); once, by the hold. */
    chargeBookingHold: (input: { cooperativeId: string; holdId: string; amount: bigint }): Promise<string> =>
      asActivity(async () => (await resolveHold(pool, input.cooperativeId, input.holdId, { kind: 'finalize', amount: input.amount })).hold.transactionId!),
    /** Gives the held cost back; a hold already released or expired has nothing left to give. */
    releaseBookingHold: (input: { cooperativeId: string; holdId: string }): Promise<void> =>
      asActivity(async () => {
        try {
          await resolveHold(pool, input.cooperativeId, input.holdId, { kind: 'release' });
        } catch (err) {
          const expired = err instanceof BusinessError && err.code === 'CONFLICT' && (await findHold(pool, input.cooperativeId, input.holdId))?.status === 'expired';
          if (!expired) throw err;
        }
      }),
    /** Pays a charged booking back (a correction reversing the charge), once per booking. */
    refundBookingCharge: (input: { bookingId: string; cooperativeId: string; transactionId: string; reason: string }): Promise<string> =>
      asActivity(async () =>
        (await correct(pool, { cooperativeId: input.cooperativeId, transactionId: input.transactionId, reason: input.reason, idempotencyKey: `booking:${input.bookingId}:refund` })).transaction.id),

    /** A closed proposal's outcome; while it is still open this fails and is retried (a poll at the retry interval). */
    async proposalOutcome(proposalId: string): Promise<'approved' | 'rejected'> {
      const p = await findProposal(pool, proposalId);
      if (!p) throw ApplicationFailure.create({ type: 'NOT_FOUND', message: `Proposal ${proposalId} not found`, nonRetryable: true });
      if (p.status === 'approved' || p.status === 'rejected') return p.status;
      throw ApplicationFailure.create({ type: 'PROPOSAL_OPEN', message: `Proposal ${proposalId} is ${p.status}` });
    },

    decideBooking: (input: { bookingId: string; status: Exclude<BookingStatus, 'pending'>; settlement?: BookingSettlement; reason?: string }): Promise<void> =>
      asActivity(async () => {
        await decideBooking(pool, input.bookingId, input);
      }),

    /** Appends an economic event, verifying its governance proof first; once per key. */
    recordEconomicEvent: (input: RecordEventInput): Promise<string> =>
      asActivity(async () => {
        const proof = input.proposalId ? await verifyGovernanceProof(pool, { proposalId: input.proposalId }, input) : null;
        const { event } = await appendEconomicEvent(pool, {
          id: randomUUID(), type: input.type, cooperativeId: input.cooperativeId, cooperatives: input.cooperatives, aggregateId: input.aggregateId,
          amount: input.amount, currency: input.amount === null ? null : 'CLOUD', payload: input.payload, proof, recordedBy: 'system', idempotencyKey: input.key,
        });
        return event.id;
      }),
  };
}

export type NetworkActivities = ReturnType<typeof createNetworkActivities>;
