import { cooperativeDirectory, findCooperativeById, listCooperatives } from '../../db/cooperatives';
import { requireCooperativeAccess } from '../auth/authenticate';
import {
  CooperativeListQuery, CooperativePage, CooperativeParams, CooperativeProvisioningResponse, CooperativeResponse, CreateCooperativeBody, DirectoryPage, DirectoryQuery,
} from '../contracts/cooperatives';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { provisionCooperative } from '../services/cooperatives';

export function cooperativeRoutes(deps: ApiDependencies) {
  const create = defineRoute({
    method: 'post',
    path: '/v1/cooperatives',
    summary: 'Create a cooperative (runs the cooperative-provisioning workflow)',
    tag: 'Cooperatives',
    roles: ['operator'],
    body: CreateCooperativeBody,
    responses: {
      200: { description: 'The cooperative already existed with this slug and name', schema: CooperativeResponse },
      201: { description: 'Created', schema: CooperativeResponse },
      202: { description: 'Accepted; provisioning is still running', schema: CooperativeProvisioningResponse },
    },
    async handler({ body }) {
      const result = await provisionCooperative(deps, body);
      if (result.kind === 'running') return { status: 202, body: { slug: body.slug, status: 'provisioning', workflowId: result.workflowId } };
      return { status: result.kind === 'created' ? 201 : 200, body: result.cooperative };
    },
  });

  const get = defineRoute({
    method: 'get',
    path: '/v1/cooperatives/:cooperativeId',
    summary: 'Get a cooperative',
    tag: 'Cooperatives',
    roles: ['member', 'coop_admin', 'operator', 'service'],
    params: CooperativeParams,
    responses: { 200: { description: 'The cooperative', schema: CooperativeResponse } },
    async handler({ params, auth }) {
      requireCooperativeAccess(auth, params.cooperativeId);
      const cooperative = await findCooperativeById(deps.pool, params.cooperativeId);
      if (!cooperative) throw new ApiError('NOT_FOUND', 'Cooperative not found');
      return { status: 200, body: cooperative };
    },
  });

  const list = defineRoute({
    method: 'get',
    path: '/v1/cooperatives',
    summary: 'Cooperatives, newest first, paginated by cursor; by status and creation time (an operator bound to a cooperative sees it alone)',
    tag: 'Cooperatives',
    roles: ['operator'],
    query: CooperativeListQuery,
    responses: { 200: { description: 'A page of cooperatives', schema: CooperativePage } },
    async handler({ query, auth }) {
      return { status: 200, body: await listCooperatives(deps.pool, { ...query, ...(auth.cooperativeId ? { only: auth.cooperativeId } : {}) }) };
    },
  });

  const directory = defineRoute({
    method: 'get',
    path: '/v1/directory/cooperatives',
    summary: "The network's active cooperatives (id, slug, name) by slug, so members can name stakeholder cooperatives",
    tag: 'Cooperatives',
    roles: ['member', 'coop_admin', 'operator', 'service'],
    query: DirectoryQuery,
    responses: { 200: { description: 'A page of the directory', schema: DirectoryPage } },
    handler: async ({ query }) => ({ status: 200, body: await cooperativeDirectory(deps.pool, query) }),
  });

  return [create, list, directory, get];
}
