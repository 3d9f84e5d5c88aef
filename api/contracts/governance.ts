import { VOTE_CHOICES } from '../../domain/governance/delegation';
import { GOVERNANCE_MODELS, THRESHOLD_COMPARISONS } from '../../domain/governance/settings';
import { LongText, SafeText, Uuid } from './common';
import { PositiveAmount } from './money';
import { z } from './zod';

const ThresholdBody = z.strictObject({ basisPoints: z.number().int().min(0).max(10_000), comparison: z.enum(THRESHOLD_COMPARISONS) });

export const GovernanceSettingsBody = z
  .strictObject({
    model: z.enum(GOVERNANCE_MODELS),
    quorum: ThresholdBody,
    majority: ThresholdBody,
    supermajority: ThresholdBody,
    votingPeriodSeconds: z.number().int().min(1).max(90 * 86_400),
    delegationAllowed: z.boolean(),
  })
  .openapi('GovernanceSettings');

export const DelegationBody = z.strictObject({ delegateMemberId: Uuid }).openapi('Delegation');

export const CreateProposalBody = z
  .strictObject({
    title: SafeText(1, 300),
    description: LongText(0, 20_000).default(''),
    /** Other cooperatives whose approval is needed; the proposer's own is always one. */
    stakeholderCooperativeIds: z.array(Uuid).max(20).default([]),
    action: z
      .strictObject({ type: z.literal('credit_transfer'), cooperativeId: Uuid, fromMemberId: Uuid, toMemberId: Uuid, amount: PositiveAmount })
      .optional(),
  })
  .openapi('CreateProposal');

export const VoteBody = z
  .strictObject({ choice: z.enum(VOTE_CHOICES), reason: SafeText(1, 2000).optional() })
  .openapi('Vote');

export const ProposalParams = z.strictObject({ proposalId: Uuid });
