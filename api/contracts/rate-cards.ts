import type { RateCard } from '../../db/rate-cards';
import { formatMicros } from '../../domain/money';
import { PRIMITIVES, type Primitive } from '../../domain/rate-card';
import { pageOf, pageQuery, SafeText, Uuid } from './common';
import { AmountString, DecimalAmount, PositiveAmount } from './money';
import { z } from './zod';

const RateBody = z.strictObject({
  rate: PositiveAmount.openapi({ type: 'string', example: '1', description: 'CLOUD per unit' }),
  infrastructureCost: DecimalAmount.openapi({ type: 'string', example: '0.1', description: 'USD of infrastructure cost per unit' }),
});

export const CreateRateCardBody = z
  .strictObject({
    effectiveFrom: z.iso.datetime({ offset: true }).openapi({ description: 'from now on (5 minutes of clock tolerance), at most five years ahead; earlier only with retroactiveReason' }),
    retroactiveReason: SafeText(1, 2000).optional().openapi({ description: 'operators only: why this card reprices the past (recorded with the card)' }),
    rates: z.strictObject(Object.fromEntries(PRIMITIVES.map((p) => [p, RateBody])) as Record<Primitive, typeof RateBody>),
  })
  .openapi('CreateRateCard');

export const RateCardView = z
  .object({
    id: Uuid,
    version: z.number().int(),
    effectiveFrom: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    retroactiveReason: z.string().nullable(),
    rates: z.record(z.enum(PRIMITIVES), z.object({ rate: AmountString, infrastructureCost: AmountString })),
  })
  .openapi('RateCard');

export function rateCardView(card: RateCard): z.infer<typeof RateCardView> {
  return {
    id: card.id, version: card.version, effectiveFrom: card.effectiveFrom, createdAt: card.createdAt, retroactiveReason: card.retroactiveReason,
    rates: Object.fromEntries(Object.entries(card.rates).map(([p, r]) => [p, { rate: formatMicros(r.rate), infrastructureCost: formatMicros(r.infrastructureCost) }])) as Record<Primitive, { rate: string; infrastructureCost: string }>,
  };
}

export const RateCardPage = pageOf(RateCardView, 'RateCardPage');

export const RateCardListQuery = z.strictObject({
  effectiveFrom: z.iso.datetime({ offset: true }).optional().openapi({ description: 'only cards taking effect at or after this instant' }),
  effectiveBefore: z.iso.datetime({ offset: true }).optional().openapi({ description: 'only cards taking effect before this instant' }),
  ...pageQuery,
});
