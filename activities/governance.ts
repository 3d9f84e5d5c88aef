import { createHash, sign } from 'node:crypto';
import type { Pool } from 'pg';
import { recordProposalOutcome, signingKey } from '../db/governance';
import { closeStakeholderVoting, closeVoting, electoratePage, frozenDelegations, sha256, stakeholderSnapshots, storeVoteTree } from '../db/proposal-votes';
import { transfer } from '../db/ledger';
import { canonical } from '../domain/canonical-json';
import { resolveVotes, type Vote } from '../domain/governance/delegation';
import { leafHash, merkleLevels, merkleRoot } from '../domain/governance/merkle';
import type { ProposalOutcome } from '../domain/governance/proposal';
import type { GovernanceSettings } from '../domain/governance/settings';
import { tally, type TallyResult } from '../domain/governance/tally';
import { asActivity } from './business-failure';

export interface CreditTransferAction {
  type: 'credit_transfer';
  cooperativeId: string;
  fromMemberId: string;
  toMemberId: string;
  amount: bigint;
}

/** One stakeholder's part of the decision record: its rules, commitments to its electorate's votes and frozen graph, and its tally. */
export interface StakeholderDecision {
  cooperativeId: string;
  settings: GovernanceSettings;
  electorate: { members: number; weight: bigint };
  /** The Merkle root over its direct votes (domain/governance/merkle.ts); the votes are listed by the API. */
  votes: { count: number; merkleRoot: string };
  /** SHA-256 of the canonical JSON of the frozen graph's [delegator, delegate] pairs in delegator order. */
  delegations: { count: number; sha256: string };
  tally: TallyResult;
}

/** The record's digest: what an executed action carries as its governance proof. */
export const recordDigest = (record: unknown) => createHash('sha256').update(canonical(record)).digest('hex');

/** Rows per read of an electorate: the tally's reads stay bounded whatever the cooperative's size. */
const PAGE = 10_000;

export function createGovernanceActivities(pool: Pool) {
  return {
    /** Ends the voting window (after the votes in flight) and freezes each stakeholder's delegation graph; once. */
    closeVoting: (proposalId: string) => closeVoting(pool, proposalId),

    /** Each stakeholder's own deadline, in the proposal's stakeholder order. */
    async stakeholderDeadlines(proposalId: string): Promise<Array<{ cooperativeId: string; closesAt: string }>> {
      return (await stakeholderSnapshots(pool, proposalId)).map((s) => ({ cooperativeId: s.cooperativeId, closesAt: s.closesAt }));
    },

    closeStakeholderVoting: (input: { proposalId: string; cooperativeId: string }) => closeStakeholderVoting(pool, input.proposalId, input.cooperativeId),

    /**
     * Tallies each stakeholder from PostgreSQL: its electorate and votes in pages, its frozen graph
     * resolved in linear time, the votes committed to by a Merkle root. Deterministic once voting is
     * closed, so a retry gives the same answer.
     */
    async tallyProposal(proposalId: string): Promise<StakeholderDecision[]> {
      const decisions: StakeholderDecision[] = [];
      for (const s of await stakeholderSnapshots(pool, proposalId)) {
        const weights = new Map<string, bigint>();
        const direct = new Map<string, Vote>();
        const leaves: Buffer[] = [];
        for (let after: string | null = null; ; ) {
          const page = await electoratePage(pool, proposalId, s.cooperativeId, after, PAGE);
          for (const r of page) {
            weights.set(r.memberId, r.weight);
            if (!r.choice) continue;
            direct.set(r.memberId, { choice: r.choice, ...(r.reason ? { reason: r.reason } : {}) });
            leaves.push(leafHash(sha256, { proposalId, cooperativeId: s.cooperativeId, memberId: r.memberId, choice: r.choice, reason: r.reason, weight: r.weight }));
          }
          if (page.length < PAGE) break;
          after = page.at(-1)!.memberId;
        }
        const delegations = await frozenDelegations(pool, proposalId, s.cooperativeId);
        // Kept for receipts: each reads one node per level instead of rebuilding the tree.
        const levels = merkleLevels(sha256, leaves);
        await storeVoteTree(pool, proposalId, s.cooperativeId, levels);
        decisions.push({
          cooperativeId: s.cooperativeId,
          settings: s.settings,
          electorate: { members: weights.size, weight: s.totalWeight },
          votes: { count: direct.size, merkleRoot: merkleRoot(sha256, levels) },
          delegations: { count: delegations.size, sha256: createHash('sha256').update(canonical([...delegations])).digest('hex') },
          tally: tally(s.settings, weights, resolveVotes(weights.keys(), direct, delegations)),
        });
      }
      return decisions;
    },

    /** Runs an approved economic action through the ledger, once (keyed by the proposal), carrying the proof. */
    executeProposalAction: (input: { proposalId: string; action: CreditTransferAction; record: unknown }): Promise<string> =>
      asActivity(async () => {
        const proof = recordDigest(input.record);
        const { transaction } = await transfer(pool, {
          cooperativeId: input.action.cooperativeId, fromMemberId: input.action.fromMemberId, toMemberId: input.action.toMemberId, amount: input.action.amount,
          idempotencyKey: `proposal:${input.proposalId}:execute`, memo: `governance proposal ${input.proposalId} approved; record sha256 ${proof}`,
        });
        return transaction.id;
      }),

    /** Signs the final record with every stakeholder cooperative's ed25519 key and stores it with the outcome and results. */
    async recordProposalOutcome(input: { proposalId: string; status: ProposalOutcome; record: unknown; results: unknown; executionTransaction: string | null }): Promise<void> {
      const audit = JSON.parse(canonical(input.record)) as { cooperatives: Array<{ cooperativeId: string }> };
      const message = Buffer.from(canonical(audit));
      const signatures: Record<string, string> = {};
      for (const { cooperativeId } of audit.cooperatives) signatures[cooperativeId] = sign(null, message, await signingKey(pool, cooperativeId)).toString('base64');
      await recordProposalOutcome(pool, { id: input.proposalId, status: input.status, result: JSON.parse(canonical(input.results)), audit, signatures, executionTransaction: input.executionTransaction });
    },
  };
}

export type GovernanceActivities = ReturnType<typeof createGovernanceActivities>;
