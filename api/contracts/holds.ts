import { HOLD_STATUSES, type Hold } from '../../domain/hold';
import { formatMicros } from '../../domain/money';
import { createdRangeQuery, pageOf, pageQuery, Uuid } from './common';
import { AmountString, DecimalAmount, PositiveAmount } from './money';
import { z } from './zod';

export const ReserveHoldBody = z
  .strictObject({
    memberId: Uuid,
    amount: PositiveAmount,
    /** How long the hold lives before it expires and releases its credits (default 15 minutes, at most 7 days). */
    ttlSeconds: z.number().int().min(1).max(7 * 86_400).default(900),
  })
  .openapi('ReserveHold');

export const FinalizeHoldBody = z.strictObject({ amount: DecimalAmount }).openapi('FinalizeHold');

export const HoldParams = z.strictObject({ cooperativeId: Uuid, holdId: Uuid });

export const HoldView = z
  .object({
    id: Uuid, memberId: Uuid, amount: AmountString, status: z.enum(HOLD_STATUSES), expiresAt: z.iso.datetime(),
    finalAmount: AmountString.nullable(), transactionId: Uuid.nullable(), createdAt: z.iso.datetime(), resolvedAt: z.iso.datetime().nullable(),
  })
  .openapi('Hold');

export function holdView(h: Hold): z.infer<typeof HoldView> {
  return {
    id: h.id, memberId: h.memberId, amount: formatMicros(h.amount), status: h.status, expiresAt: h.expiresAt,
    finalAmount: h.finalAmount === null ? null : formatMicros(h.finalAmount), transactionId: h.transactionId, createdAt: h.createdAt, resolvedAt: h.resolvedAt,
  };
}

export const HoldPage = pageOf(HoldView, 'HoldPage');

export const HoldListQuery = z.strictObject({ memberId: Uuid.optional(), status: z.enum(HOLD_STATUSES).optional(), ...createdRangeQuery, ...pageQuery });
