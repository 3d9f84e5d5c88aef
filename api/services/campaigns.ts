import { findCampaign } from '../../db/campaigns';
import { grantBatch, type GrantBatchRequest, type GrantBatchResult } from '../../db/ledger';
import type { Campaign } from '../../domain/campaigns';
import type { ApiDependencies } from '../dependencies';

/** Grants a batch (all or nothing, one grant per member and campaign), then reads the campaign with what is left of its budget. */
export async function grantFromCampaign(deps: ApiDependencies, req: GrantBatchRequest): Promise<GrantBatchResult & { campaign: Campaign }> {
  const result = await grantBatch(deps.pool, req);
  return { ...result, campaign: (await findCampaign(deps.pool, req.cooperativeId, req.campaignId))! };
}
