import { formatMicros, MoneyFormatError, parseMicros } from '../../domain/money';
import { ECONOMIC_EVENT_TYPES, type EconomicEvent } from '../../domain/network/economic-events';
import { ACCESS_MODELS, BOOKING_STATUSES, COST_MODELS, RESOURCE_TYPES, WEEKDAYS, type Booking, type SharedResource } from '../../domain/network/resources';
import { LongText, pageQuery, SafeText, Uuid } from './common';
import { AmountString, DecimalAmount } from './money';
import { z } from './zod';

const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s)).openapi({ type: 'string', format: 'date-time', example: '2026-12-01T09:00:00Z' });
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM (UTC)');

export const ResourceBody = z
  .strictObject({
    type: z.enum(RESOURCE_TYPES),
    title: SafeText(1, 200),
    description: LongText(0, 5000).default(''),
    location: SafeText(1, 200),
    /** Weekly windows in UTC when the resource can be booked. */
    availability: z.array(z.strictObject({ day: z.enum(WEEKDAYS), from: TimeOfDay, to: TimeOfDay })).min(1).max(50),
    accessModel: z.enum(ACCESS_MODELS),
    cost: z.discriminatedUnion('model', [
      z.strictObject({ model: z.literal('free') }),
      z.strictObject({ model: z.literal('flat'), amount: DecimalAmount.refine((v) => v > 0n, 'must be greater than zero') }),
      z.strictObject({ model: z.literal('per_hour'), amount: DecimalAmount.refine((v) => v > 0n, 'must be greater than zero') }),
    ]),
  })
  .openapi('SharedResourceBody');

export const ResourceView = z
  .object({
    id: Uuid, cooperativeId: Uuid, type: z.enum(RESOURCE_TYPES), title: z.string(), description: z.string(), location: z.string(),
    availability: z.array(z.object({ day: z.enum(WEEKDAYS), from: z.string(), to: z.string() })), accessModel: z.enum(ACCESS_MODELS),
    cost: z.object({ model: z.enum(COST_MODELS), amount: AmountString }), createdAt: z.iso.datetime(),
  })
  .openapi('SharedResource');

export const resourceView = (r: SharedResource): z.infer<typeof ResourceView> => ({
  id: r.id, cooperativeId: r.cooperativeId, type: r.type, title: r.title, description: r.description, location: r.location, availability: r.schedule,
  accessModel: r.accessModel, cost: { model: r.costModel, amount: formatMicros(r.costAmount) }, createdAt: r.createdAt,
});

export const ResourceSearchQuery = z
  .strictObject({
    q: SafeText(1, 200).optional(),
    type: z.enum(RESOURCE_TYPES).optional(),
    location: SafeText(1, 200).optional(),
    /** Available for the whole of [from, to): both or neither. */
    from: Instant.optional(),
    to: Instant.optional(),
    ...pageQuery,
  })
  .refine((q) => (q.from === undefined) === (q.to === undefined), { message: 'from and to go together', path: ['to'] });

export const ResourcePage = z.object({ items: z.array(ResourceView), nextCursor: z.string().nullable() }).openapi('SharedResourcePage');

export const ResourceParams = z.strictObject({ resourceId: Uuid });
export const BookingParams = z.strictObject({ bookingId: Uuid });

export const BookingRequestBody = z.strictObject({ from: Instant, to: Instant }).openapi('BookingRequest');

export const BookingView = z
  .object({
    id: Uuid, resourceId: Uuid, ownerCooperativeId: Uuid, requesterCooperativeId: Uuid, requesterMemberId: Uuid, from: z.iso.datetime(), to: z.iso.datetime(),
    status: z.enum(BOOKING_STATUSES), cost: AmountString, proposalId: Uuid.nullable(), settlement: z
      .union([z.object({ outTransaction: Uuid, inTransaction: Uuid }), z.object({ holdId: Uuid, transaction: Uuid })])
      .nullable()
      .openapi({ description: "between two ledgers, each side's transaction; within one, the hold on the requester's wallet and the charge" }),
    reason: z.string().nullable(), createdAt: z.iso.datetime(), decidedAt: z.iso.datetime().nullable(), workflowId: z.string(),
  })
  .openapi('Booking');

export const BookingListQuery = z
  .strictObject({
    status: z.enum(BOOKING_STATUSES).optional(),
    resourceId: Uuid.optional(),
    memberId: Uuid.optional().openapi({ description: 'the requesting member (a member sees only their own)' }),
    from: Instant.optional().openapi({ description: 'only bookings whose slot ends after this instant' }),
    to: Instant.optional().openapi({ description: 'only bookings whose slot starts before this instant' }),
    ...pageQuery,
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from comes before to', path: ['to'] });

export const BookingPage = z.object({ items: z.array(BookingView), nextCursor: z.string().nullable() }).openapi('BookingPage');

export const bookingView = (b: Booking): z.infer<typeof BookingView> => ({ ...b, cost: formatMicros(b.cost), workflowId: `booking:${b.id}` });

/** A signed amount in smallest units' decimal form ("-1.5"): whether a sign is allowed is the event type's rule. */
const SignedAmount = z
  .string()
  .max(41)
  .transform((text, ctx) => {
    try {
      return text.startsWith('-') ? -parseMicros(text.slice(1)) : parseMicros(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof MoneyFormatError ? err.message : 'invalid amount' });
      return z.NEVER;
    }
  })
  .openapi({ type: 'string', example: '-2.5', description: 'a decimal string, negative only where the type allows' });

const common = {
  /** What the event is about; for a decision's execution, the proposal or the booking it decided. */
  aggregateId: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  /** The other cooperatives the event concerns (the recording cooperative is always one). */
  cooperatives: z.array(Uuid).max(20).default([]),
  amount: SignedAmount.optional(),
  proof: z.strictObject({ proposalId: Uuid }).optional(),
};

/** One schema per client-recorded type: the payload each type carries. */
export const EconomicEventBody = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('resource_exchange_proposed'), ...common, payload: z.strictObject({ resourceId: Uuid, from: z.iso.datetime(), to: z.iso.datetime() }) }),
    z.strictObject({ type: z.literal('resource_exchange_approved'), ...common, payload: z.strictObject({ resourceId: Uuid }) }),
    z.strictObject({ type: z.literal('resource_exchange_executed'), ...common, payload: z.strictObject({ resourceId: Uuid }) }),
    z.strictObject({ type: z.literal('labor_contribution_recorded'), ...common, payload: z.strictObject({ memberId: Uuid, hours: z.number().min(-1000).max(1000), description: SafeText(1, 500) }) }),
    z.strictObject({ type: z.literal('mutual_aid_requested'), ...common, payload: z.strictObject({ purpose: SafeText(1, 500), neededBy: z.iso.datetime().optional() }) }),
    z.strictObject({ type: z.literal('mutual_aid_fulfilled'), ...common, payload: z.strictObject({ requestEventId: Uuid, donorMemberId: Uuid }) }),
    z.strictObject({ type: z.literal('infrastructure_investment_proposed'), ...common, payload: z.strictObject({ project: SafeText(1, 200), description: LongText(0, 5000).default('') }) }),
    z.strictObject({ type: z.literal('infrastructure_investment_approved'), ...common, payload: z.strictObject({ project: SafeText(1, 200) }) }),
  ] as const)
  .openapi('EconomicEventBody');

export const EconomicEventView = z
  .object({
    id: Uuid, sequence: z.string(), type: z.enum(ECONOMIC_EVENT_TYPES), cooperativeId: Uuid, cooperatives: z.array(Uuid), aggregateId: z.string(),
    amount: z.string().nullable(), currency: z.enum(['CLOUD', 'USD']).nullable(), payload: z.record(z.string(), z.unknown()),
    proof: z.object({ proposalId: Uuid, recordDigest: z.string().optional() }).nullable(), recordedBy: z.string(), createdAt: z.iso.datetime(),
  })
  .openapi('EconomicEvent');

export const economicEventView = (e: EconomicEvent): z.infer<typeof EconomicEventView> => ({
  ...e, sequence: e.sequence.toString(), amount: e.amount === null ? null : (e.amount < 0n ? `-${formatMicros(-e.amount)}` : formatMicros(e.amount)),
});

export const EconomicEventQuery = z.strictObject({
  type: z.enum(ECONOMIC_EVENT_TYPES).optional(),
  aggregate: z.string().min(1).max(200).optional(),
  cooperative: Uuid.optional(),
  ...pageQuery,
});

export const EconomicEventPage = z.object({ items: z.array(EconomicEventView), nextCursor: z.string().nullable() }).openapi('EconomicEventPage');

const Figures = z.object({
  decisions: z.number().int(), approved: z.number().int(), rejected: z.number().int(),
  quorumRate: z.number().nullable().openapi({ description: "share of the cooperative's tallies in decided proposals that met its quorum" }),
  rejectionRate: z.number().nullable(), events: z.number().int(), governanceEvents: z.number().int(), bookings: z.number().int(), confirmedBookings: z.number().int(),
});

export const NetworkReportView = z
  .object({ network: Figures, cooperatives: z.array(Figures.extend({ cooperativeId: Uuid, slug: z.string() })) })
  .openapi('NetworkReport');

export const CooperativeReportParams = z.strictObject({ cooperativeId: Uuid });
