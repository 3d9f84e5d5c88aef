import type { VoteView as VoteRecord } from '../../db/proposal-votes';
import { VOTE_CHOICES } from '../../domain/governance/delegation';
import { PROPOSAL_STATUSES, type ProposalRecord } from '../../domain/governance/proposal';
import { GOVERNANCE_MODELS, THRESHOLD_COMPARISONS } from '../../domain/governance/settings';
import { formatWeight, parseWeight } from '../../domain/governance/weights';
import { LongText, pageQuery, SafeText, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
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
    /** Members see each other's votes while the window is open (otherwise only after the close). */
    votesPublic: z.boolean().default(false),
    /** A budget (a proposal's credit amount) above this is decided by supermajority under the majority model; null: never. */
    supermajorityAbove: PositiveAmount.nullable().default(null),
  })
  .openapi('GovernanceSettingsInput');

export const GovernanceSettingsView = z
  .object({
    model: z.enum(GOVERNANCE_MODELS),
    quorum: ThresholdBody,
    majority: ThresholdBody,
    supermajority: ThresholdBody,
    votingPeriodSeconds: z.number().int(),
    delegationAllowed: z.boolean(),
    votesPublic: z.boolean(),
    supermajorityAbove: AmountString.nullable(),
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
    /** Save without opening: POST /v1/proposals/:id/open starts its window later. */
    draft: z.boolean().default(false),
  })
  .openapi('CreateProposal');

export const VoteBody = z
  .strictObject({ choice: z.enum(VOTE_CHOICES), reason: SafeText(1, 2000).optional() })
  .openapi('Vote');

export const ProposalParams = z.strictObject({ proposalId: Uuid });
export const ReceiptParams = z.strictObject({ proposalId: Uuid, memberId: Uuid });
export const MemberParams = z.strictObject({ memberId: Uuid });

/** A weight as the spec's vote_weight: a decimal string with at most four places. */
const WeightString = z
  .string()
  .max(20)
  .transform((text, ctx) => {
    try {
      return parseWeight(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .openapi({ type: 'string', example: '1.5', description: 'a decimal with at most four places, 0 to 100000000' });

export const VoteWeightBody = z.strictObject({ voteWeight: WeightString }).openapi('VoteWeight');

export const ProposalView = z
  .object({
    id: Uuid,
    originCooperativeId: Uuid,
    stakeholders: z.array(Uuid),
    title: z.string(),
    description: z.string(),
    proposer: z.string(),
    action: z.unknown().nullable(),
    status: z.enum(PROPOSAL_STATUSES),
    closesAt: z.iso.datetime().nullable().openapi({ description: 'the deadline; null while a draft' }),
    openedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    executionTransaction: Uuid.nullable(),
    workflowId: z.string().nullable(),
  })
  .openapi('Proposal');

export const proposalView = (p: ProposalRecord): z.infer<typeof ProposalView> => ({
  id: p.id, originCooperativeId: p.originCooperativeId, stakeholders: p.stakeholders, title: p.title, description: p.description, proposer: p.proposer,
  action: p.action ?? null, status: p.status, closesAt: p.closesAt, openedAt: p.openedAt, createdAt: p.createdAt, executionTransaction: p.executionTransaction,
  workflowId: p.status === 'draft' ? null : `proposal:${p.id}`,
});

export const ProposalListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(PROPOSAL_STATUSES).optional(),
  createdFrom: z.iso.datetime().optional().openapi({ description: 'created at or after' }),
  createdBefore: z.iso.datetime().optional().openapi({ description: 'created before' }),
});
export const PageQuery = z.strictObject(pageQuery);

const page = <T extends z.ZodType>(item: T, name: string) => z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
export const ProposalPage = page(ProposalView, 'ProposalPage');

export const VoteView = z
  .object({ memberId: Uuid, cooperativeId: Uuid, choice: z.enum(VOTE_CHOICES), reason: z.string().nullable(), weight: z.string(), version: z.number().int(), castAt: z.iso.datetime() })
  .openapi('CastVote');
export const VotePage = page(VoteView, 'VotePage');
export const voteView = (v: VoteRecord): z.infer<typeof VoteView> => ({ ...v, weight: formatWeight(v.weight) });

export const DelegationEdge = z.object({ delegator: Uuid, delegate: Uuid, since: z.iso.datetime().optional(), cooperativeId: Uuid.optional() }).openapi('DelegationEdge');
export const DelegationPage = page(DelegationEdge, 'DelegationPage');

const ProofStep = z.object({ side: z.enum(['left', 'right']), hash: z.string().openapi({ description: 'hex SHA-256' }) });
export const ReceiptView = z
  .object({
    leaf: z.object({ proposalId: Uuid, cooperativeId: Uuid, memberId: Uuid, choice: z.enum(VOTE_CHOICES), reason: z.string().nullable(), weight: z.string() }),
    leafIndex: z.number().int(),
    leafCount: z.number().int(),
    proof: z.array(ProofStep),
    merkleRoot: z.string().openapi({ description: "the root in the signed record's cooperatives[].votes.merkleRoot" }),
    signature: z.string().openapi({ description: "the cooperative's ed25519 signature (base64) over the canonical JSON of the whole record" }),
    publicKey: z.string().openapi({ description: "the cooperative's public key (PEM)" }),
    algorithm: z.string(),
  })
  .openapi('VoteReceipt');
