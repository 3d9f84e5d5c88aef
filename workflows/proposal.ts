import { ActivityFailure, ApplicationFailure, defineQuery, defineUpdate, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { CreditTransferAction, GovernanceActivities } from '../activities/governance';
import { resolveVotes, type Choice, type Vote } from '../domain/governance/delegation';
import type { ProposalStatus } from '../domain/governance/proposal';
import type { GovernanceSettings } from '../domain/governance/settings';
import { tally, type TallyResult } from '../domain/governance/tally';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface Stakeholder {
  cooperativeId: string;
  /** Snapshot at opening: the rules this cooperative decides by, and who may vote with what weight. */
  settings: GovernanceSettings;
  weights: Record<string, number>;
  /** This cooperative's own deadline (its voting period from the opening); absent in proposals opened before it existed. */
  closesAt?: string;
}

export interface ProposalInput {
  proposalId: string;
  closesAt: string;
  stakeholders: Stakeholder[];
  action?: CreditTransferAction;
}

export interface VoteInput {
  cooperativeId: string;
  memberId: string;
  choice: Choice;
  reason?: string;
}

export interface ProposalResults {
  status: ProposalStatus;
  closesAt: string;
  /** Live: direct votes only (delegations are resolved at the close). Final: with frozen delegations. */
  cooperatives: Array<{ cooperativeId: string; tally: TallyResult }>;
  executionTransaction?: string;
}

export const castVote = defineUpdate<{ accepted: true }, [VoteInput]>('castVote');
export const proposalResults = defineQuery<ProposalResults>('results');
export const proposalWorkflowId = (proposalId: string) => `proposal:${proposalId}`;

const { frozenDelegations, executeProposalAction, recordProposalOutcome } = proxyActivities<GovernanceActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '1 minute', nonRetryableErrorTypes: ['INSUFFICIENT_FUNDS', 'NOT_FOUND', 'VALIDATION_ERROR', 'CONFLICT'] },
});

const refuse = (type: 'CONFLICT' | 'FORBIDDEN' | 'VALIDATION_ERROR', message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * A proposal's voting window: votes are Updates validated against the window, eligibility and the
 * voter's model (a member may change a vote until close). At the deadline each stakeholder tallies by
 * its own rules over its frozen delegation graph; the proposal passes only if every one approves. An
 * approved economic action runs through the ledger once, carrying the record's digest; the record is
 * signed by every stakeholder.
 */
export async function proposal(input: ProposalInput): Promise<ProposalResults> {
  const votes = new Map(input.stakeholders.map((s) => [s.cooperativeId, new Map<string, Vote>()]));
  const closesAt = Date.parse(input.closesAt);
  let closed = false;
  const results: ProposalResults = { status: 'open', closesAt: input.closesAt, cooperatives: [] };
  const live = () =>
    input.stakeholders.map((s) => ({
      cooperativeId: s.cooperativeId,
      tally: tally(s.settings, new Map(Object.entries(s.weights)), resolveVotes(Object.keys(s.weights), votes.get(s.cooperativeId)!, new Map())),
    }));
  setHandler(proposalResults, () => (results.status === 'open' ? { ...results, cooperatives: live() } : results));
  upsertSearchAttributes([{ key: CooperativeId, value: input.stakeholders[0]!.cooperativeId }, { key: BusinessStatus, value: 'open' }]);

  setHandler(
    castVote,
    (vote) => {
      votes.get(vote.cooperativeId)!.set(vote.memberId, { choice: vote.choice, ...(vote.reason ? { reason: vote.reason } : {}) });
      return { accepted: true as const };
    },
    {
      validator: (vote) => {
        if (closed || Date.now() >= closesAt) throw refuse('CONFLICT', 'The voting window is closed');
        const stakeholder = input.stakeholders.find((s) => s.cooperativeId === vote.cooperativeId);
        if (!stakeholder || !(vote.memberId in stakeholder.weights)) throw refuse('FORBIDDEN', 'Only members of a stakeholder cooperative may vote');
        if (stakeholder.closesAt && Date.now() >= Date.parse(stakeholder.closesAt)) throw refuse('CONFLICT', "The voting window of the voter's cooperative is closed");
        const model = stakeholder.settings.model;
        if (vote.choice === 'block' && model !== 'consensus' && model !== 'consensus_minus_one') throw refuse('VALIDATION_ERROR', `A block is not a vote under ${model}`);
        if (vote.choice === 'objection' && model !== 'sociocratic_consent') throw refuse('VALIDATION_ERROR', `An objection is not a vote under ${model}`);
        if (vote.choice === 'objection' && !vote.reason?.trim()) throw refuse('VALIDATION_ERROR', 'An objection needs its reason');
      },
    },
  );

  await sleep(Math.max(closesAt - Date.now(), 0));
  closed = true;

  const graphs = await frozenDelegations(input.stakeholders.map((s) => s.cooperativeId));
  const cooperatives = input.stakeholders.map((s) => {
    const delegations = s.settings.delegationAllowed ? new Map(Object.entries(graphs[s.cooperativeId] ?? {})) : new Map<string, string>();
    const direct = votes.get(s.cooperativeId)!;
    const effective = resolveVotes(Object.keys(s.weights), direct, delegations);
    return {
      cooperativeId: s.cooperativeId,
      settings: s.settings,
      weights: s.weights,
      votes: Object.fromEntries(direct),
      delegations: Object.fromEntries(delegations),
      effective: Object.fromEntries(effective),
      tally: tally(s.settings, new Map(Object.entries(s.weights)), effective),
    };
  });
  const status = cooperatives.every((c) => c.tally.outcome === 'approved') ? 'approved' : 'rejected';
  const record = { proposalId: input.proposalId, closedAt: new Date().toISOString(), outcome: status, action: input.action ?? null, cooperatives };

  // The proof the executed action carries is the digest of this record as decided, before execution.
  let executionTransaction: string | null = null;
  let executionError: string | null = null;
  if (status === 'approved' && input.action) {
    try {
      executionTransaction = await executeProposalAction({ proposalId: input.proposalId, action: input.action, record });
    } catch (err) {
      // A business refusal (e.g. insufficient credits) is part of the record; the proposal still closes.
      if (!(err instanceof ActivityFailure)) throw err;
      executionError = err.cause?.message ?? err.message;
    }
  }
  await recordProposalOutcome({ proposalId: input.proposalId, status, record: { ...record, executionTransaction, executionError }, executionTransaction });

  Object.assign(results, { status, cooperatives: cooperatives.map((c) => ({ cooperativeId: c.cooperativeId, tally: c.tally })), ...(executionTransaction ? { executionTransaction } : {}) });
  upsertSearchAttributes([{ key: BusinessStatus, value: status }]);
  return results;
}
