import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { canonical } from '../../domain/canonical-json';
import { appendEconomicEvent } from '../../db/economic-events';
import { findProposal, governanceSettings, setDelegation, updateGovernanceSettings } from '../../db/governance';
import type { ProposalRecord } from '../../domain/governance/proposal';
import { castVote, proposalResults, proposalWorkflowId } from '../../workflows/proposal';
import { callerCooperative, type AuthContext } from '../auth/authenticate';
import { CreateProposalBody, DelegationBody, GovernanceSettingsBody, ProposalParams, VoteBody } from '../contracts/governance';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { openProposal, verifiedAudit } from '../services/proposals';

/** Stakeholders' members, their admins, services and operators may see a proposal; others get NOT_FOUND. */
function visible(auth: AuthContext, p: ProposalRecord): void {
  if (auth.role === 'operator' && !auth.cooperativeId) return;
  if (!auth.cooperativeId || !p.stakeholders.includes(auth.cooperativeId)) throw new ApiError('NOT_FOUND', 'Proposal not found');
}

export function governanceRoutes(deps: ApiDependencies) {
  async function proposalOr404(auth: AuthContext, id: string): Promise<ProposalRecord> {
    const p = await findProposal(deps.pool, id);
    if (!p) throw new ApiError('NOT_FOUND', 'Proposal not found');
    visible(auth, p);
    return p;
  }

  return [
    defineRoute({
      method: 'get', path: '/v1/governance/settings', summary: "The caller's cooperative governance settings", tag: 'Governance',
      roles: ['member', 'coop_admin', 'service'], responses: { 200: { description: 'Settings', schema: GovernanceSettingsBody } },
      async handler({ auth }) {
        const { publicKey: _publicKey, ...settings } = await governanceSettings(deps.pool, callerCooperative(auth));
        return { status: 200, body: settings };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/governance/settings', summary: "Set the cooperative's model, quorum, thresholds (each > or >=), voting period and delegation", tag: 'Governance',
      roles: ['coop_admin'], body: GovernanceSettingsBody, responses: { 200: { description: 'Settings', schema: GovernanceSettingsBody } },
      async handler({ auth, body }) {
        const { publicKey: _publicKey, ...settings } = await updateGovernanceSettings(deps.pool, callerCooperative(auth), body);
        return { status: 200, body: settings };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/delegations', summary: 'Delegate your vote to another member of your cooperative (public; a direct vote overrides it)', tag: 'Governance',
      roles: ['member'], body: DelegationBody, responses: { 200: { description: 'Delegated' } },
      async handler({ auth, body }) {
        await setDelegation(deps.pool, callerCooperative(auth), auth.subject, body.delegateMemberId);
        return { status: 200, body: { delegator: auth.subject, delegate: body.delegateMemberId } };
      },
    }),
    defineRoute({
      method: 'delete', path: '/v1/delegations', summary: 'Withdraw your delegation', tag: 'Governance',
      roles: ['member'], responses: { 200: { description: 'Withdrawn' } },
      async handler({ auth }) {
        await setDelegation(deps.pool, callerCooperative(auth), auth.subject, null);
        return { status: 200, body: { delegator: auth.subject, delegate: null } };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/proposals', summary: 'Open a proposal (proposal:<id>); other stakeholder cooperatives must each approve by their own rules', tag: 'Governance',
      roles: ['member', 'coop_admin'], body: CreateProposalBody, idempotencyKey: 'required', responses: { 201: { description: 'Opened' }, 200: { description: 'Replayed' } },
      async handler({ auth, body, idempotencyKey }) {
        const { proposal: p, created } = await openProposal(deps, { originCooperativeId: callerCooperative(auth), proposer: auth.subject, body, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: { id: p.id, status: p.status, closesAt: p.closesAt, stakeholders: p.stakeholders, workflowId: proposalWorkflowId(p.id) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/proposals/:proposalId/votes', summary: 'Vote (or change your vote) while the window is open', tag: 'Governance',
      roles: ['member'], params: ProposalParams, body: VoteBody, responses: { 200: { description: 'Vote accepted' } },
      async handler({ auth, params, body }) {
        await proposalOr404(auth, params.proposalId);
        try {
          await deps.temporal.workflow.getHandle(proposalWorkflowId(params.proposalId)).executeUpdate(castVote, {
            args: [{ cooperativeId: callerCooperative(auth), memberId: auth.subject, choice: body.choice, ...(body.reason ? { reason: body.reason } : {}) }],
          });
        } catch (err) {
          // A closed proposal's workflow has completed: its window is over.
          throw apiErrorFromWorkflowFailure(err) ?? (err instanceof WorkflowNotFoundError ? new ApiError('CONFLICT', 'The voting window is closed') : err);
        }
        // The vote's governance event (decision 0022); each vote, a change included, is one.
        await appendEconomicEvent(deps.pool, {
          id: randomUUID(), type: 'vote_cast', cooperativeId: callerCooperative(auth), cooperatives: [callerCooperative(auth)], aggregateId: params.proposalId, amount: null, currency: null,
          payload: { proposalId: params.proposalId, memberId: auth.subject, choice: body.choice }, proof: null, recordedBy: `member:${auth.subject}`, idempotencyKey: `vote:${params.proposalId}:${randomUUID()}`,
        });
        return { status: 200, body: { accepted: true, choice: body.choice } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/results', summary: 'Live tally while open (direct votes), final tally after the close', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, responses: { 200: { description: 'Results' } },
      async handler({ auth, params }) {
        const p = await proposalOr404(auth, params.proposalId);
        const results = await deps.temporal.workflow.getHandle(proposalWorkflowId(p.id)).query(proposalResults);
        return { status: 200, body: JSON.parse(canonical(results)) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/audit', summary: "The signed audit record and each stakeholder signature's verification", tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, responses: { 200: { description: 'Audit record' } },
      async handler({ auth, params }) {
        return { status: 200, body: await verifiedAudit(deps, await proposalOr404(auth, params.proposalId)) };
      },
    }),
  ];
}
