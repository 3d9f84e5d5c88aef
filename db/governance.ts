import { generateKeyPairSync } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { ProposalOutcome, ProposalRecord } from '../domain/governance/proposal';
import { DEFAULT_GOVERNANCE, type GovernanceSettings, type ThresholdComparison } from '../domain/governance/settings';
import { inSystemTransaction, inTenantTransaction } from './transaction';
import { idempotent, requestHash } from './idempotency';

export interface CooperativeGovernance extends GovernanceSettings {
  votingPeriodSeconds: number;
  publicKey: string;
}

interface SettingsRow {
  model: GovernanceSettings['model'];
  quorum_bp: number;
  quorum_cmp: ThresholdComparison;
  majority_bp: number;
  majority_cmp: ThresholdComparison;
  supermajority_bp: number;
  supermajority_cmp: ThresholdComparison;
  voting_period_seconds: number;
  delegation_allowed: boolean;
  public_key: string;
  private_key: string;
}

const toSettings = (r: SettingsRow): CooperativeGovernance => ({
  model: r.model,
  quorum: { basisPoints: r.quorum_bp, comparison: r.quorum_cmp },
  majority: { basisPoints: r.majority_bp, comparison: r.majority_cmp },
  supermajority: { basisPoints: r.supermajority_bp, comparison: r.supermajority_cmp },
  delegationAllowed: r.delegation_allowed,
  votingPeriodSeconds: r.voting_period_seconds,
  publicKey: r.public_key,
});

const DEFAULT_VOTING_PERIOD = 7 * 86_400;

/** The cooperative's settings, created with the defaults (and a signing key) on first use. Runs as the owner: the private key never reaches coop_app. */
function settingsRow(pool: Pool, cooperativeId: string): Promise<SettingsRow> {
  return inSystemTransaction(pool, async (client) => {
    const read = async () => (await client.query<SettingsRow>('SELECT * FROM governance_settings WHERE cooperative_id = $1', [cooperativeId])).rows[0];
    const existing = await read();
    if (existing) return existing;
    const { publicKey, privateKey } = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const d = DEFAULT_GOVERNANCE;
    await client.query(
      `INSERT INTO governance_settings (cooperative_id, model, quorum_bp, quorum_cmp, majority_bp, majority_cmp, supermajority_bp, supermajority_cmp, voting_period_seconds, delegation_allowed, public_key, private_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (cooperative_id) DO NOTHING`,
      [cooperativeId, d.model, d.quorum.basisPoints, d.quorum.comparison, d.majority.basisPoints, d.majority.comparison, d.supermajority.basisPoints, d.supermajority.comparison, DEFAULT_VOTING_PERIOD, d.delegationAllowed, publicKey, privateKey],
    );
    return (await read())!;
  });
}

export async function governanceSettings(pool: Pool, cooperativeId: string): Promise<CooperativeGovernance> {
  return toSettings(await settingsRow(pool, cooperativeId));
}

export async function signingKey(pool: Pool, cooperativeId: string): Promise<string> {
  return (await settingsRow(pool, cooperativeId)).private_key;
}

export async function updateGovernanceSettings(pool: Pool, cooperativeId: string, s: GovernanceSettings & { votingPeriodSeconds: number }): Promise<CooperativeGovernance> {
  await settingsRow(pool, cooperativeId);
  await inSystemTransaction(pool, (client) =>
    client.query(
      `UPDATE governance_settings SET model = $2, quorum_bp = $3, quorum_cmp = $4, majority_bp = $5, majority_cmp = $6, supermajority_bp = $7, supermajority_cmp = $8,
              voting_period_seconds = $9, delegation_allowed = $10, updated_at = now() WHERE cooperative_id = $1`,
      [cooperativeId, s.model, s.quorum.basisPoints, s.quorum.comparison, s.majority.basisPoints, s.majority.comparison, s.supermajority.basisPoints, s.supermajority.comparison, s.votingPeriodSeconds, s.delegationAllowed],
    ),
  );
  return governanceSettings(pool, cooperativeId);
}

/** Sets (or with `delegate` null, removes) a member's delegation. */
export async function setDelegation(pool: Pool, cooperativeId: string, delegator: string, delegate: string | null): Promise<void> {
  const settings = await governanceSettings(pool, cooperativeId);
  if (delegate && !settings.delegationAllowed) throw new BusinessError('CONFLICT', 'This cooperative does not allow delegation');
  if (delegate === delegator) throw new BusinessError('VALIDATION_ERROR', 'A member cannot delegate to themselves');
  // One statement either way, so concurrent identical requests cannot race each other.
  await inTenantTransaction(pool, cooperativeId, (client) =>
    delegate
      ? client.query(
          `INSERT INTO delegations (cooperative_id, delegator, delegate) VALUES ($1, $2, $3)
           ON CONFLICT (cooperative_id, delegator) DO UPDATE SET delegate = EXCLUDED.delegate, created_at = now()`,
          [cooperativeId, delegator, delegate],
        )
      : client.query('DELETE FROM delegations WHERE delegator = $1', [delegator]),
  );
}

/** Each cooperative's delegation graph as it stands now (frozen into a proposal's record at its close). */
export async function delegationGraphs(pool: Pool, cooperativeIds: string[]): Promise<Record<string, Record<string, string>>> {
  // Each graph is read in its own cooperative's scope: delegations are tenant data.
  const graphs: Record<string, Record<string, string>> = {};
  for (const cooperativeId of cooperativeIds) {
    const { rows } = await inTenantTransaction(pool, cooperativeId, (client) => client.query<{ delegator: string; delegate: string }>('SELECT delegator, delegate FROM delegations'));
    graphs[cooperativeId] = Object.fromEntries(rows.map((r) => [r.delegator, r.delegate]));
  }
  return graphs;
}

/** Members eligible to vote, with their weight (one member, one vote). */
export async function eligibleMembers(pool: Pool, cooperativeId: string): Promise<Record<string, number>> {
  const { rows } = await inTenantTransaction(pool, cooperativeId, (client) => client.query<{ id: string }>('SELECT id FROM members'));
  return Object.fromEntries(rows.map((r) => [r.id, 1]));
}

interface ProposalRow {
  id: string;
  origin_cooperative_id: string;
  stakeholders: string[];
  title: string;
  description: string;
  proposer: string;
  action: unknown;
  status: ProposalRecord['status'];
  closes_at: Date;
  request_hash: string;
  result: unknown;
  audit: unknown;
  signatures: Record<string, string> | null;
  execution_transaction: string | null;
}

const toProposal = (r: ProposalRow): ProposalRecord => ({
  id: r.id, originCooperativeId: r.origin_cooperative_id, stakeholders: r.stakeholders, title: r.title, description: r.description, proposer: r.proposer,
  action: r.action, status: r.status, closesAt: r.closes_at.toISOString(), result: r.result, audit: r.audit, signatures: r.signatures, executionTransaction: r.execution_transaction,
});

export function createProposal(
  pool: Pool,
  p: { id: string; originCooperativeId: string; stakeholders: string[]; title: string; description: string; proposer: string; action: unknown; closesAt: Date; idempotencyKey: string },
): Promise<{ proposal: ProposalRecord; created: boolean }> {
  const hash = requestHash('proposal', { stakeholders: p.stakeholders, title: p.title, description: p.description, proposer: p.proposer, action: p.action ?? null });
  // Proposals span cooperatives, so they are kept outside any one tenant; the key is the origin cooperative's.
  return inSystemTransaction(pool, async (client) => {
    const read = async (where: string, values: unknown[]) => (await client.query<ProposalRow>(`SELECT * FROM proposals WHERE ${where}`, values)).rows[0];
    const { row, replayed } = await idempotent(
      p.idempotencyKey,
      hash,
      () => read('origin_cooperative_id = $1 AND idempotency_key = $2', [p.originCooperativeId, p.idempotencyKey]),
      async () => {
        await client.query(
          `INSERT INTO proposals (id, origin_cooperative_id, stakeholders, title, description, proposer, action, status, closes_at, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10)`,
          [p.id, p.originCooperativeId, p.stakeholders, p.title, p.description, p.proposer, p.action === undefined ? null : JSON.stringify(p.action), p.closesAt, p.idempotencyKey, hash],
        );
        return (await read('id = $1', [p.id]))!;
      },
    );
    return { proposal: toProposal(row), created: !replayed };
  });
}

export async function findProposal(pool: Pool, id: string): Promise<ProposalRecord | undefined> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<ProposalRow>('SELECT * FROM proposals WHERE id = $1', [id]));
  return rows[0] && toProposal(rows[0]);
}

/**
 * Records the outcome, once: the first close wins and a repeat changes nothing. Every stakeholder
 * cooperative gets its `proposal.decided` event in the same transaction.
 */
export async function recordProposalOutcome(pool: Pool, o: { id: string; status: ProposalOutcome; result: unknown; audit: unknown; signatures: Record<string, string>; executionTransaction: string | null }): Promise<void> {
  await inSystemTransaction(pool, (client) =>
    client.query(
      `WITH decided AS (
         UPDATE proposals SET status = $2, result = $3, audit = $4, signatures = $5, execution_transaction = $6 WHERE id = $1 AND status = 'open'
         RETURNING id, title, stakeholders, origin_cooperative_id
       )
       INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
       SELECT s.cooperative_id, 'proposal.decided', d.id::text,
              jsonb_build_object('proposalId', d.id, 'title', d.title, 'status', $2::text, 'originCooperativeId', d.origin_cooperative_id, 'executionTransaction', $6::uuid)
         FROM decided d CROSS JOIN LATERAL unnest(d.stakeholders) AS s(cooperative_id)`,
      [o.id, o.status, JSON.stringify(o.result), JSON.stringify(o.audit), JSON.stringify(o.signatures), o.executionTransaction],
    ),
  );
}
