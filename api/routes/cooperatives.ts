import { findCooperativeById, findCooperativeBySlug } from '../../db/cooperatives';
import { cooperativeProvisioning, cooperativeProvisioningWorkflowId } from '../../workflows/cooperative-provisioning';
import { requireCooperativeAccess } from '../auth/authenticate';
import { awaitWorkflowResult } from '../await-workflow';
import { CooperativeParams, CooperativeProvisioningResponse, CooperativeResponse, CreateCooperativeBody } from '../contracts/cooperatives';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

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
      // The slug is the business key: a repeat with the same name is a replay, another name a conflict.
      const existing = await findCooperativeBySlug(deps.pool, body.slug);
      if (existing?.status === 'active') {
        if (existing.name !== body.name) throw new ApiError('CONFLICT', `Cooperative '${body.slug}' already exists with another name`);
        return { status: 200, body: existing };
      }
      const workflowId = cooperativeProvisioningWorkflowId(body.slug);
      const handle = await deps.temporal.workflow.start(cooperativeProvisioning, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId,
        args: [{ slug: body.slug, name: body.name }],
        // A concurrent duplicate joins the running provisioning instead of starting a second one.
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const cooperative = await awaitWorkflowResult(handle, deps.workflowWaitMs ?? 10_000);
      if (!cooperative) return { status: 202, body: { slug: body.slug, status: 'provisioning', workflowId } };
      return { status: 201, body: cooperative };
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

  return [create, get];
}
