import { findProposal, governanceSettings, listDelegations, listProposals, setDelegation, setVoteWeight, updateGovernanceSettings, type CooperativeGovernance } from '../../db/governance';
import { castVotes, listFrozenDelegations, listVotes, stakeholderSnapshots, type CastVote } from '../../db/proposal-votes';
import type { ProposalRecord } from '../../domain/governance/proposal';
import { formatWeight } from '../../domain/governance/weights';
import { formatMicros } from '../../domain/money';
import { proposalWorkflowId } from '../../workflows/proposal';
import { callerCooperative, type AuthContext } from '../auth/authenticate';
import {
  CreateProposalBody, DelegationBody, DelegationPage, GovernanceSettingsBody, GovernanceSettingsView, MemberParams, PageQuery, ProposalListQuery, ProposalPage, ProposalParams,
  ProposalView, proposalView, ReceiptParams, ReceiptView, VoteBody, VotePage, voteView, VoteWeightBody,
} from '../contracts/governance';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { groupedCalls } from '../grouped-calls';
import { defineRoute } from '../route';
import { openDraftProposal, openProposal, proposalResults, verifiedAudit, voteReceipt } from '../services/proposals';

/** Stakeholders' members, their admins, services and operators may see a proposal; others get NOT_FOUND. */
function visible(auth: AuthContext, p: ProposalRecord): void {
  if (auth.role === 'operator' && !auth.cooperativeId) return;
  if (!auth.cooperativeId || !p.stakeholders.includes(auth.cooperativeId)) throw new ApiError('NOT_FOUND', 'Proposal not found');
}

const settingsView = ({ publicKey: _publicKey, supermajorityAbove, ...s }: CooperativeGovernance) => ({ ...s, supermajorityAbove: supermajorityAbove === null ? null : formatMicros(supermajorityAbove) });

/** Votes cast in one transaction at most: a burst takes a few, each bounded. */
const VOTES_PER_CALL = 500;

/** A vote as the key of its grouped call: identical votes (replays) share one write and its outcome. Ids come lower-cased (Uuid, token claims). */
const voteKey = (v: CastVote) => JSON.stringify([v.proposalId, v.cooperativeId, v.memberId, v.choice, v.reason ?? null]);
const voteOf = (key: string): CastVote => {
  const [proposalId, cooperativeId, memberId, choice, reason] = JSON.parse(key) as [string, string, string, CastVote['choice'], string | null];
  return { proposalId, cooperativeId, memberId, choice, ...(reason === null ? {} : { reason }) };
};

export function governanceRoutes(deps: ApiDependencies) {
  // Votes arriving together are cast together (api/grouped-calls.ts), one transaction per group: a meeting
  // where everyone votes at once costs a few commits, not one per vote. A member's votes on a proposal
  // go in separate groups, in arrival order, so the later counts.
  const castVote = groupedCalls(
    async (keys) => {
      const outcomes = await castVotes(deps.pool, keys.map(({ key }) => voteOf(key)));
      return new Map(keys.map(({ key }, i) => [key, { outcome: outcomes[i] }]));
    },
    VOTES_PER_CALL,
    (key) => {
      const v = voteOf(key);
      return `${v.proposalId}\n${v.memberId}`;
    },
  );

  async function proposalOr404(auth: AuthContext, id: string): Promise<ProposalRecord> {
    const p = await findProposal(deps.pool, id);
    if (!p) throw new ApiError('NOT_FOUND', 'Proposal not found');
    visible(auth, p);
    return p;
  }

  return [
    defineRoute({
      method: 'get', path: '/v1/governance/settings', summary: "The caller's cooperative governance settings", tag: 'Governance',
      roles: ['member', 'coop_admin', 'service'], responses: { 200: { description: 'Settings', schema: GovernanceSettingsView } },
      async handler({ auth }) {
        return { status: 200, body: settingsView(await governanceSettings(deps.pool, callerCooperative(auth))) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/governance/settings', summary: "Set the cooperative's model, quorum, thresholds (each > or >=), voting period, delegation, publicity of votes and the budget above which a supermajority applies", tag: 'Governance',
      roles: ['coop_admin'], body: GovernanceSettingsBody, responses: { 200: { description: 'Settings', schema: GovernanceSettingsView } },
      async handler({ auth, body }) {
        return { status: 200, body: settingsView(await updateGovernanceSettings(deps.pool, callerCooperative(auth), body)) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/governance/vote-weights/:memberId', summary: "Set a member's vote weight (a decimal with four places; 1 by default); it counts in proposals opened from now on", tag: 'Governance',
      roles: ['coop_admin'], params: MemberParams, body: VoteWeightBody, responses: { 200: { description: 'Set' } },
      async handler({ auth, params, body }) {
        await setVoteWeight(deps.pool, callerCooperative(auth), params.memberId, body.voteWeight);
        return { status: 200, body: { memberId: params.memberId, voteWeight: formatWeight(body.voteWeight) } };
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
      method: 'get', path: '/v1/delegations', summary: "The caller's cooperative's delegation graph as it stands (public to its members), in delegator order", tag: 'Governance',
      roles: ['member', 'coop_admin', 'service'], query: PageQuery, responses: { 200: { description: 'A page of delegations', schema: DelegationPage } },
      async handler({ auth, query }) {
        return { status: 200, body: await listDelegations(deps.pool, callerCooperative(auth), query) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/proposals', summary: 'Open a proposal (proposal:<id>), or save it as a draft; other stakeholder cooperatives must each approve by their own rules', tag: 'Governance',
      roles: ['member', 'coop_admin'], body: CreateProposalBody, idempotencyKey: 'required', responses: { 201: { description: 'Opened or saved' }, 200: { description: 'Replayed' } },
      async handler({ auth, body, idempotencyKey }) {
        const { proposal: p, created } = await openProposal(deps, { originCooperativeId: callerCooperative(auth), proposer: auth.subject, body, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: { id: p.id, status: p.status, closesAt: p.closesAt, stakeholders: p.stakeholders, workflowId: p.status === 'draft' ? null : proposalWorkflowId(p.id) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals', summary: 'Proposals the caller\'s cooperative is a stakeholder of (operators: all), newest first, by status and creation time', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], query: ProposalListQuery, responses: { 200: { description: 'A page of proposals', schema: ProposalPage } },
      async handler({ auth, query }) {
        const stakeholder = auth.role === 'operator' && !auth.cooperativeId ? null : callerCooperative(auth);
        const page = await listProposals(
          deps.pool,
          { stakeholder, ...(query.status ? { status: query.status } : {}), ...(query.createdFrom ? { createdFrom: new Date(query.createdFrom) } : {}), ...(query.createdBefore ? { createdBefore: new Date(query.createdBefore) } : {}) },
          { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) },
        );
        return { status: 200, body: { items: page.items.map(proposalView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId', summary: 'A proposal: title, description, proposer, stakeholders, deadline, status', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, responses: { 200: { description: 'The proposal', schema: ProposalView } },
      async handler({ auth, params }) {
        return { status: 200, body: proposalView(await proposalOr404(auth, params.proposalId)) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/proposals/:proposalId/open', summary: 'Open a draft: its window, rules and electorate start now (its proposer or an admin of its cooperative); repeating it changes nothing', tag: 'Governance',
      roles: ['member', 'coop_admin'], params: ProposalParams, responses: { 200: { description: 'Open', schema: ProposalView } },
      async handler({ auth, params }) {
        const p = await proposalOr404(auth, params.proposalId);
        const mayOpen = p.proposer === auth.subject || (auth.role === 'coop_admin' && auth.cooperativeId === p.originCooperativeId);
        if (!mayOpen) throw new ApiError('FORBIDDEN', 'Only its proposer or an admin of its cooperative may open a draft');
        return { status: 200, body: proposalView(await openDraftProposal(deps, p)) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/proposals/:proposalId/votes', summary: 'Vote (or change your vote) while the window is open; the latest vote counts and a repeat changes nothing', tag: 'Governance',
      roles: ['member'], params: ProposalParams, body: VoteBody, responses: { 200: { description: 'Vote accepted' } },
      async handler({ auth, params, body }) {
        // castVotes answers NOT_FOUND itself for a proposal the voter's cooperative has no part in, and writes the vote_cast event with the vote.
        const { value } = await castVote(voteKey({ proposalId: params.proposalId, cooperativeId: callerCooperative(auth), memberId: auth.subject, choice: body.choice, ...(body.reason ? { reason: body.reason } : {}) }));
        if (!value) throw new Error('a grouped vote came back without its outcome');
        if (value.outcome !== undefined) throw value.outcome;
        return { status: 200, body: { accepted: true, choice: body.choice } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/votes', summary: 'The direct votes, in member order: after the close, or while open for cooperatives that make votes public', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, query: PageQuery, responses: { 200: { description: 'A page of votes', schema: VotePage } },
      async handler({ auth, params, query }) {
        const p = await proposalOr404(auth, params.proposalId);
        const snapshots = p.status === 'draft' ? [] : await stakeholderSnapshots(deps.pool, p.id);
        const shown = snapshots.filter((s) => p.status !== 'open' || s.votesPublic).map((s) => s.cooperativeId);
        if (shown.length === 0) throw new ApiError('CONFLICT', 'Votes are shown once the proposal has closed');
        const page = await listVotes(deps.pool, p.id, shown, query);
        return { status: 200, body: { items: page.items.map(voteView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/votes/:memberId/receipt', summary: "A voter's receipt: the inclusion proof of their vote in the Merkle root the signed record holds (README: Vote receipts)", tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ReceiptParams, responses: { 200: { description: 'The receipt', schema: ReceiptView } },
      async handler({ auth, params }) {
        return { status: 200, body: await voteReceipt(deps, await proposalOr404(auth, params.proposalId), params.memberId) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/delegations', summary: 'The delegation graphs frozen at the close, in delegator order', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, query: PageQuery, responses: { 200: { description: 'A page of delegations', schema: DelegationPage } },
      async handler({ auth, params, query }) {
        const p = await proposalOr404(auth, params.proposalId);
        return { status: 200, body: await listFrozenDelegations(deps.pool, p.id, query) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/proposals/:proposalId/results', summary: 'Live tally while open (direct votes), final tally after the close; weights as decimals', tag: 'Governance',
      roles: ['member', 'coop_admin', 'operator', 'service'], params: ProposalParams, responses: { 200: { description: 'Results' } },
      async handler({ auth, params }) {
        return { status: 200, body: await proposalResults(deps, await proposalOr404(auth, params.proposalId)) };
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
