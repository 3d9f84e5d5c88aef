import type { ManualPrice } from '../../db/token-prices';
import { formatPrice, parsePrice } from '../../domain/prices';
import { EthAddress, refined, SafeText } from './common';
import { z } from './zod';

export const SetManualPriceBody = z
  .strictObject({
    token: EthAddress.openapi({ description: 'the super token priced' }),
    price: z.string().max(40).transform(refined(parsePrice)).openapi({ type: 'string', description: 'USD per whole token, a decimal string (at most 18 decimals)', example: '1.0002' }),
    observedAt: z.iso.datetime().optional().openapi({ description: 'the instant the price is for (default now); a past one prices the intervals ending after it, within their age limit' }),
    reason: SafeText(1, 500).openapi({ description: 'why a price is set by hand: kept with it' }),
  })
  .openapi('SetManualPrice');

export const ManualPriceView = z
  .object({
    id: z.uuid(),
    cooperativeId: z.uuid(),
    token: z.string(),
    price: z.string(),
    observedAt: z.iso.datetime(),
    reason: z.string(),
    setBy: z.string().openapi({ description: 'the operator who set it' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('ManualPrice');

export const ManualPricePage = z.object({ items: z.array(ManualPriceView), nextCursor: z.string().nullable() }).openapi('ManualPricePage');

export const ManualPriceListQuery = z.strictObject({
  token: EthAddress.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

export const manualPriceView = (p: ManualPrice): z.infer<typeof ManualPriceView> => ({ ...p, price: formatPrice(p.price) });
