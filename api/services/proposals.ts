import { randomUUID, verify } from 'node:crypto';
import { findCooperativeById } from '../../db/cooperatives';
import { createProposal, eligibleMembers, governanceSettings } from '../../db/governance';
import { existingMembers } from '../../db/members';
import { canonical } from '../../domain/canonical-json';
import type { ProposalRecord } from '../../domain/governance/proposal';
import { formatMicros } from '../../domain/money';
import { proposal, proposalWorkflowId } from '../../workflows/proposal';
import type { CreateProposalBody } from '../contracts/governance';
import type { z } from '../contracts/zod';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { startOnce } from '../temporal-failures';

export interface OpenProposalRequest {
  originCooperativeId: string;
  proposer: string;
  body: z.output<typeof CreateProposalBody>;
  idempotencyKey: string;
}

/**
 * Opens a proposal: checks its stakeholders and action, records it (idempotent by key), then starts
 * its workflow with each stakeholder's settings and electorate as they stand now. The workflow is
 * started on every request, once per proposal, so a retry after a failed start still gets it.
 */
export async function openProposal(deps: ApiDependencies, req: OpenProposalRequest): Promise<{ proposal: ProposalRecord; created: boolean }> {
  const { body } = req;
  const stakeholders = [...new Set([req.originCooperativeId, ...body.stakeholderCooperativeIds])];
  for (const id of stakeholders) if (!(await findCooperativeById(deps.pool, id))) throw new ApiError('NOT_FOUND', `Cooperative ${id} not found`);
  if (body.action) {
    const { cooperativeId, fromMemberId, toMemberId } = body.action;
    if (!stakeholders.includes(cooperativeId)) throw new ApiError('VALIDATION_ERROR', "The action's cooperative must be a stakeholder");
    // An action that names strangers could never execute: refuse it now rather than after the vote.
    const members = await existingMembers(deps.pool, cooperativeId, [fromMemberId, toMemberId]);
    const strangers = [fromMemberId, toMemberId].filter((id) => !members.has(id));
    if (strangers.length > 0) throw new ApiError('VALIDATION_ERROR', `The action names ${strangers.join(', ')}, not members of cooperative ${cooperativeId}`, [{ path: 'body.action', message: 'members must belong to the action\'s cooperative' }]);
  }
  // Each stakeholder decides within its own voting period; the proposal closes when the last one has.
  const opened = Date.now();
  const governance = await Promise.all(stakeholders.map((id) => governanceSettings(deps.pool, id)));
  const deadlines = governance.map((g) => opened + g.votingPeriodSeconds * 1000);
  const closesAt = new Date(Math.max(...deadlines));
  const action = body.action && { ...body.action, amount: formatMicros(body.action.amount) };
  const { proposal: p, created } = await createProposal(deps.pool, {
    id: randomUUID(), originCooperativeId: req.originCooperativeId, stakeholders, title: body.title, description: body.description, proposer: req.proposer, action, closesAt, idempotencyKey: req.idempotencyKey,
  });
  const snapshot = await Promise.all(
    stakeholders.map(async (cooperativeId, i) => {
      const { publicKey: _publicKey, votingPeriodSeconds: _period, ...settings } = governance[i]!;
      // A replay computes the deadline anew: never past the proposal's recorded close.
      const own = new Date(Math.min(deadlines[i]!, Date.parse(p.closesAt))).toISOString();
      return { cooperativeId, settings, weights: await eligibleMembers(deps.pool, cooperativeId), closesAt: own };
    }),
  );
  await startOnce(() =>
    deps.temporal.workflow.start(proposal, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: proposalWorkflowId(p.id),
      args: [{ proposalId: p.id, closesAt: p.closesAt, stakeholders: snapshot, ...(body.action ? { action: body.action } : {}) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  return { proposal: p, created };
}

/** A closed proposal's signed record, with each stakeholder's signature checked against its public key. */
export async function verifiedAudit(deps: ApiDependencies, p: ProposalRecord) {
  if (!p.audit || !p.signatures) throw new ApiError('CONFLICT', 'The proposal is still open');
  const message = Buffer.from(canonical(p.audit));
  const verified: Record<string, boolean> = {};
  for (const [cooperativeId, signature] of Object.entries(p.signatures)) {
    const { publicKey } = await governanceSettings(deps.pool, cooperativeId);
    verified[cooperativeId] = verify(null, message, publicKey, Buffer.from(signature, 'base64'));
  }
  return { audit: p.audit, signatures: p.signatures, verified, executionTransaction: p.executionTransaction };
}
