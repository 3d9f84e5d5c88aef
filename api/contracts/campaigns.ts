import { MAX_GRANT_BATCH, type Campaign, type CampaignGrant } from '../../domain/campaigns';
import { formatMicros } from '../../domain/money';
import { pageQuery, SafeText, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
import { z } from './zod';

export const CreateCampaignBody = z
  .strictObject({
    name: SafeText(1, 200),
    budget: PositiveAmount.openapi({ type: 'string', example: '1000', description: 'CLOUD the campaign may grant in all' }),
    perWalletCap: PositiveAmount.openapi({ type: 'string', example: '10', description: 'CLOUD one member may be granted' }),
    grantExpiryDays: z.number().int().min(1).max(3650).openapi({ description: 'each grant expires this many days after it is granted', example: 90 }),
  })
  .openapi('CreateCampaign');

export const CampaignParams = z.strictObject({ cooperativeId: Uuid, campaignId: Uuid });
export const CampaignListQuery = z.strictObject(pageQuery);

export const CampaignView = z
  .object({
    id: Uuid,
    name: z.string(),
    budget: AmountString,
    perWalletCap: AmountString,
    grantExpiryDays: z.number().int(),
    granted: AmountString,
    remainingBudget: AmountString,
    grantCount: z.number().int(),
    category: z.literal('promotional').openapi({ description: 'the lot category of its grants: spent before paid credits' }),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
  })
  .openapi('Campaign');

export const campaignView = (c: Campaign): z.infer<typeof CampaignView> => ({
  id: c.id, name: c.name, budget: formatMicros(c.budget), perWalletCap: formatMicros(c.perWalletCap), grantExpiryDays: c.grantExpiryDays, granted: formatMicros(c.granted),
  remainingBudget: formatMicros(c.budget - c.granted), grantCount: c.grantCount, category: 'promotional', createdBy: c.createdBy, createdAt: c.createdAt,
});

export const CampaignPage = z.object({ items: z.array(CampaignView), nextCursor: z.string().nullable() }).openapi('CampaignPage');

export const GrantBatchBody = z
  .strictObject({ grants: z.array(z.strictObject({ memberId: Uuid, amount: PositiveAmount })).min(1).max(MAX_GRANT_BATCH) })
  .openapi('GrantBatch');

export const GrantView = z
  .object({ memberId: Uuid, amount: AmountString, lotId: Uuid, transactionId: Uuid, expiresAt: z.iso.datetime(), grantedAt: z.iso.datetime() })
  .openapi('CampaignGrant');

export const grantView = (g: CampaignGrant): z.infer<typeof GrantView> => ({
  memberId: g.memberId, amount: formatMicros(g.amount), lotId: g.lotId, transactionId: g.transactionId, expiresAt: g.expiresAt, grantedAt: g.grantedAt,
});

export const GrantBatchView = z
  .object({
    campaign: CampaignView,
    created: z.number().int().openapi({ description: 'grants this batch made; the others were made before' }),
    grants: z.array(GrantView).openapi({ description: "the campaign's grant to each member of the batch" }),
  })
  .openapi('GrantBatchResult');

export const GrantPage = z.object({ items: z.array(GrantView), nextCursor: z.string().nullable() }).openapi('CampaignGrantPage');
