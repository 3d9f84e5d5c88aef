import { BusinessError } from '../errors';
import type { Choice } from './delegation';
import { GOVERNANCE_MODELS, type GovernanceModel } from './settings';

/** A proposal may be saved as a draft, is open until its deadline, then approved or rejected by the tally. */
export const PROPOSAL_STATUSES = ['draft', 'open', 'approved', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];
/** How a closed proposal ended. */
export type ProposalOutcome = Extract<ProposalStatus, 'approved' | 'rejected'>;

export interface ProposalRecord {
  id: string;
  originCooperativeId: string;
  stakeholders: string[];
  title: string;
  description: string;
  proposer: string;
  action: unknown;
  status: ProposalStatus;
  /** Null while a draft: the window starts when it is opened. */
  closesAt: string | null;
  openedAt: string | null;
  createdAt: string;
  result: unknown;
  audit: unknown;
  signatures: Record<string, string> | null;
  executionTransaction: string | null;
}

/**
 * Why a choice is not a vote under the voter's model, if it is not: a block only under the consensus
 * models, an objection only under consent, and an objection always with its reason.
 */
function choiceProblem(model: GovernanceModel, choice: Choice, reason: string | undefined): string | undefined {
  if (choice === 'block' && model !== 'consensus' && model !== 'consensus_minus_one') return `A block is not a vote under ${model}`;
  if (choice === 'objection' && model !== 'sociocratic_consent') return `An objection is not a vote under ${model}`;
  if (choice === 'objection' && !reason?.trim()) return 'An objection needs its reason';
  return undefined;
}

/** The refusal of a choice that is not a vote under the voter's model; undefined when it is one. */
export function choiceRefusal(model: GovernanceModel, choice: Choice, reason: string | undefined): BusinessError | undefined {
  const problem = choiceProblem(model, choice, reason);
  return problem ? new BusinessError('VALIDATION_ERROR', problem) : undefined;
}

/** The models under which the choice is a vote: a vote's statement writes it only under one of these. */
export function modelsAllowing(choice: Choice, reason: string | undefined): GovernanceModel[] {
  return GOVERNANCE_MODELS.filter((model) => !choiceProblem(model, choice, reason));
}

/**
 * The model a stakeholder decides a proposal by: its own, except that a majority cooperative with a
 * supermajority threshold decides a budget above it (amount in micro-CLOUD) by supermajority.
 */
export function modelFor(model: GovernanceModel, supermajorityAbove: bigint | null, amount: bigint | null): GovernanceModel {
  return model === 'majority' && supermajorityAbove !== null && amount !== null && amount > supermajorityAbove ? 'supermajority' : model;
}
