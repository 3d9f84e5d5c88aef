import { randomUUID } from 'node:crypto';
import { createCampaign, findCampaign, listCampaigns, listGrants } from '../../db/campaigns';
import { validateCampaign } from '../../domain/campaigns';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CampaignListQuery, CampaignPage, CampaignParams, CampaignView, campaignView, CreateCampaignBody, GrantBatchBody, GrantBatchView, GrantPage, grantView } from '../contracts/campaigns';
import { CooperativeScope } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { grantFromCampaign } from '../services/campaigns';

const ROLES = ['coop_admin', 'operator'] as const;

/** Promotional campaigns: budgeted batch grants of credits spent before paid ones. */
export function campaignRoutes(deps: ApiDependencies) {
  const campaignOf = async (cooperativeId: string, campaignId: string) => {
    const campaign = await findCampaign(deps.pool, cooperativeId, campaignId);
    if (!campaign) throw new ApiError('NOT_FOUND', 'Campaign not found');
    return campaign;
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/campaigns',
      summary: 'Create a campaign: a budget, a per-wallet cap and an expiry for its grants (promotional credits, spent before paid ones)',
      tag: 'Campaigns',
      roles: ROLES,
      params: CooperativeScope,
      body: CreateCampaignBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed', schema: CampaignView }, 201: { description: 'Created', schema: CampaignView } },
      async handler({ params, body, auth, idempotencyKey }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        try {
          validateCampaign(body);
        } catch (err) {
          throw new ApiError('VALIDATION_ERROR', (err as Error).message, [{ path: 'body', message: (err as Error).message }]);
        }
        const { campaign, created } = await createCampaign(deps.pool, { id: randomUUID(), cooperativeId: params.cooperativeId, ...body, createdBy: auth.subject, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: campaignView(campaign) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/campaigns',
      summary: 'Campaigns with what each has granted and has left, newest first, paginated by cursor',
      tag: 'Campaigns',
      roles: ROLES,
      params: CooperativeScope,
      query: CampaignListQuery,
      responses: { 200: { description: 'A page of campaigns', schema: CampaignPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listCampaigns(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(campaignView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/campaigns/:campaignId',
      summary: 'A campaign, with what it has granted and its remaining budget',
      tag: 'Campaigns',
      roles: ROLES,
      params: CampaignParams,
      responses: { 200: { description: 'The campaign', schema: CampaignView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: campaignView(await campaignOf(params.cooperativeId, params.campaignId)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/campaigns/:campaignId/grants',
      summary: 'Grant to up to 1,000 members at once: checked as a whole against the budget and cap before anything is granted; one grant per member and campaign',
      tag: 'Campaigns',
      roles: ROLES,
      params: CampaignParams,
      body: GrantBatchBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Nothing new: every member was granted before (or a replay)', schema: GrantBatchView }, 201: { description: 'Granted', schema: GrantBatchView } },
      async handler({ params, body, auth, idempotencyKey }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const result = await grantFromCampaign(deps, { cooperativeId: params.cooperativeId, campaignId: params.campaignId, grants: body.grants, actor: auth.subject, idempotencyKey: idempotencyKey! });
        return { status: result.replayed ? 200 : 201, body: { campaign: campaignView(result.campaign), created: result.created, grants: result.grants.map(grantView) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/campaigns/:campaignId/grants',
      summary: "A campaign's grants, newest first, paginated by cursor",
      tag: 'Campaigns',
      roles: ROLES,
      params: CampaignParams,
      query: CampaignListQuery,
      responses: { 200: { description: 'A page of grants', schema: GrantPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        await campaignOf(params.cooperativeId, params.campaignId);
        const page = await listGrants(deps.pool, params.cooperativeId, params.campaignId, query);
        return { status: 200, body: { items: page.items.map(grantView), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
