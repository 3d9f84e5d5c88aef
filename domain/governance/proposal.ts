/** A proposal is open until its deadline, then approved or rejected by the tally. */
export const PROPOSAL_STATUSES = ['open', 'approved', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];
/** How a closed proposal ended. */
export type ProposalOutcome = Exclude<ProposalStatus, 'open'>;

export interface ProposalRecord {
  id: string;
  originCooperativeId: string;
  stakeholders: string[];
  title: string;
  description: string;
  proposer: string;
  action: unknown;
  status: ProposalStatus;
  closesAt: string;
  result: unknown;
  audit: unknown;
  signatures: Record<string, string> | null;
  executionTransaction: string | null;
}
