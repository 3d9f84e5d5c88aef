import { createHash, sign } from 'node:crypto';
import type { Pool } from 'pg';
import { delegationGraphs, recordProposalOutcome, signingKey } from '../db/governance';
import { transfer } from '../db/ledger';
import { canonical } from '../domain/canonical-json';
import type { ProposalOutcome } from '../domain/governance/proposal';
import { asActivity } from './business-failure';

export interface CreditTransferAction {
  type: 'credit_transfer';
  cooperativeId: string;
  fromMemberId: string;
  toMemberId: string;
  amount: bigint;
}

/** The record's digest: what an executed action carries as its governance proof. */
export const recordDigest = (record: unknown) => createHash('sha256').update(canonical(record)).digest('hex');

export function createGovernanceActivities(pool: Pool) {
  return {
    /** Each stakeholder's delegation graph at the close, frozen into the proposal's record. */
    frozenDelegations: (cooperativeIds: string[]) => delegationGraphs(pool, cooperativeIds),

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

    /** Signs the final record with every stakeholder cooperative's ed25519 key and stores it with the outcome. */
    async recordProposalOutcome(input: { proposalId: string; status: ProposalOutcome; record: unknown; executionTransaction: string | null }): Promise<void> {
      const audit = JSON.parse(canonical(input.record)) as { cooperatives: Array<{ cooperativeId: string }> };
      const message = Buffer.from(canonical(audit));
      const signatures: Record<string, string> = {};
      for (const { cooperativeId } of audit.cooperatives) signatures[cooperativeId] = sign(null, message, await signingKey(pool, cooperativeId)).toString('base64');
      await recordProposalOutcome(pool, { id: input.proposalId, status: input.status, result: { status: input.status }, audit, signatures, executionTransaction: input.executionTransaction });
    },
  };
}

export type GovernanceActivities = ReturnType<typeof createGovernanceActivities>;
