import { ActivityFailure, defineQuery, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { CreditTransferAction, GovernanceActivities } from '../activities/governance';
import type { ProposalStatus } from '../domain/governance/proposal';
import type { TallyResult } from '../domain/governance/tally';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface ProposalInput {
  proposalId: string;
  closesAt: string;
  /** The stakeholder cooperatives, the origin first. Their rules and electorates are in PostgreSQL, snapshotted at opening. */
  stakeholders: string[];
  action?: CreditTransferAction;
}

export interface ProposalResults {
  status: ProposalStatus;
  closesAt: string;
  /** Each stakeholder's final tally (weights in 1/10000 units); empty while open (the API counts live votes itself). */
  cooperatives: Array<{ cooperativeId: string; tally: TallyResult }>;
  executionTransaction?: string;
}

export const proposalResults = defineQuery<ProposalResults>('results');
export const proposalWorkflowId = (proposalId: string) => `proposal:${proposalId}`;

const { stakeholderDeadlines, closeStakeholderVoting, closeVoting, tallyProposal, executeProposalAction, recordProposalOutcome } = proxyActivities<GovernanceActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumInterval: '1 minute', nonRetryableErrorTypes: ['INSUFFICIENT_FUNDS', 'NOT_FOUND', 'VALIDATION_ERROR', 'CONFLICT'] },
});

/**
 * A proposal's voting window (decision 0020). Votes are rows the API writes, each checked against the
 * window and the electorate in its own transaction; the workflow keeps none of them, so its history
 * and payloads stay the same size for 10 or 100,000 voters. Each stakeholder votes until its own
 * deadline, which the workflow closes; at the last one it closes voting (waiting
 * for votes in flight, freezing the delegation graphs), and each stakeholder tallies by its own rules
 * from PostgreSQL; the proposal passes only if every one approves. An approved economic action runs
 * through the ledger once, carrying the record's digest; the record, which commits to every vote by a
 * Merkle root, is signed by every stakeholder.
 */
export async function proposal(input: ProposalInput): Promise<ProposalResults> {
  const results: ProposalResults = { status: 'open', closesAt: input.closesAt, cooperatives: [] };
  setHandler(proposalResults, () => results);
  upsertSearchAttributes([{ key: CooperativeId, value: input.stakeholders[0]! }, { key: BusinessStatus, value: 'open' }]);

  // Each stakeholder's voting closes at its own deadline; the proposal's, the last of them, closes it all.
  const deadlines = (await stakeholderDeadlines(input.proposalId)).filter((d) => d.closesAt < input.closesAt).sort((a, b) => a.closesAt.localeCompare(b.closesAt));
  for (const d of deadlines) {
    await sleep(Math.max(Date.parse(d.closesAt) - Date.now(), 0));
    await closeStakeholderVoting({ proposalId: input.proposalId, cooperativeId: d.cooperativeId });
  }
  await sleep(Math.max(Date.parse(input.closesAt) - Date.now(), 0));
  await closeVoting(input.proposalId);
  const cooperatives = await tallyProposal(input.proposalId);
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
  const final: ProposalResults = { status, closesAt: input.closesAt, cooperatives: cooperatives.map((c) => ({ cooperativeId: c.cooperativeId, tally: c.tally })), ...(executionTransaction ? { executionTransaction } : {}) };
  await recordProposalOutcome({ proposalId: input.proposalId, status, record: { ...record, executionTransaction, executionError }, results: final, executionTransaction });
  Object.assign(results, final);
  upsertSearchAttributes([{ key: BusinessStatus, value: status }]);
  return results;
}
