import { findCooperativeBySlug } from '../../db/cooperatives';
import type { Cooperative } from '../../domain/cooperative';
import { cooperativeProvisioning, cooperativeProvisioningWorkflowId } from '../../workflows/cooperative-provisioning';
import { awaitWorkflowResult, temporalCall } from '../await-workflow';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

export type Provisioned = { kind: 'existing' | 'created'; cooperative: Cooperative } | { kind: 'running'; workflowId: string };

/**
 * Provisions a cooperative by its slug, the business key: an active one with the same name is a
 * replay, another name a conflict; otherwise the provisioning workflow is started or joined and
 * awaited for a bounded time (decision 0003).
 */
export async function provisionCooperative(deps: ApiDependencies, input: { slug: string; name: string }): Promise<Provisioned> {
  const existing = await findCooperativeBySlug(deps.pool, input.slug);
  if (existing?.status === 'active') {
    if (existing.name !== input.name) throw new ApiError('CONFLICT', `Cooperative '${input.slug}' already exists with another name`);
    return { kind: 'existing', cooperative: existing };
  }
  const workflowId = cooperativeProvisioningWorkflowId(input.slug);
  const handle = await temporalCall(deps, () =>
    deps.temporal.workflow.start(cooperativeProvisioning, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId,
      args: [input],
      // A concurrent duplicate joins the running provisioning instead of starting a second one.
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  );
  const cooperative = await awaitWorkflowResult(deps, handle);
  // A concurrent request for the slug with another name joined the first one's provisioning: it is a conflict, not its success.
  if (cooperative && cooperative.name !== input.name) throw new ApiError('CONFLICT', `Cooperative '${input.slug}' already exists with another name`);
  return cooperative ? { kind: 'created', cooperative } : { kind: 'running', workflowId };
}
