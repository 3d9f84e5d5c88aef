import { generateKeyPairSync } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { ProposalOutcome, ProposalRecord, ProposalStatus } from '../domain/governance/proposal';
import { DEFAULT_GOVERNANCE, type GovernanceSettings, type ThresholdComparison } from '../domain/governance/settings';
import { isUuid } from '../domain/ids';
import { creationPosition, readCreationCursor, readCursor, toPage, type Page } from './cursor';
import { snapshotElectorate } from './proposal-votes';
import { inSystemTransaction, inTenantTransaction } from './transaction';
import { idempotent, requestHash } from './idempotency';

/** The settings a cooperative keeps beyond how it decides: its window, publicity of votes, the budget above which a supermajority applies. */
export interface GovernanceOptions {
  votingPeriodSeconds: number;
  votesPublic: boolean;
  /** Micro-CLOUD; null for never. */
  supermajorityAbove: bigint | null;
}

export interface CooperativeGovernance extends GovernanceSettings, GovernanceOptions {
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
  votes_public: boolean;
  supermajority_above: bigint | null;
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
  votesPublic: r.votes_public,
  supermajorityAbove: r.supermajority_above,
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

export async function updateGovernanceSettings(pool: Pool, cooperativeId: string, s: GovernanceSettings & GovernanceOptions): Promise<CooperativeGovernance> {
  await settingsRow(pool, cooperativeId);
  await inSystemTransaction(pool, (client) =>
    client.query(
      `UPDATE governance_settings SET model = $2, quorum_bp = $3, quorum_cmp = $4, majority_bp = $5, majority_cmp = $6, supermajority_bp = $7, supermajority_cmp = $8,
              voting_period_seconds = $9, delegation_allowed = $10, votes_public = $11, supermajority_above = $12, updated_at = now() WHERE cooperative_id = $1`,
      [cooperativeId, s.model, s.quorum.basisPoints, s.quorum.comparison, s.majority.basisPoints, s.majority.comparison, s.supermajority.basisPoints, s.supermajority.comparison, s.votingPeriodSeconds, s.delegationAllowed, s.votesPublic, s.supermajorityAbove],
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

/** A page of the cooperative's delegation graph as it stands now (public to its members), in delegator order. */
export async function listDelegations(pool: Pool, cooperativeId: string, page: { limit: number; cursor?: string }): Promise<Page<{ delegator: string; delegate: string; since: string }>> {
  const after =
    readCursor(page.cursor, ([id]) => {
      if (typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
      return id;
    }) ?? null;
  const { rows } = await inTenantTransaction(pool, cooperativeId, (client) =>
    client.query<{ delegator: string; delegate: string; created_at: Date }>(
      'SELECT delegator, delegate, created_at FROM delegations WHERE ($1::uuid IS NULL OR delegator > $1::uuid) ORDER BY delegator LIMIT $2',
      [after, page.limit + 1],
    ),
  );
  return toPage(rows, page.limit, (r) => [r.delegator], (r) => ({ delegator: r.delegator, delegate: r.delegate, since: r.created_at.toISOString() }));
}

/** Sets a member's vote weight (1/10000 units); it counts in proposals opened from now on. */
export async function setVoteWeight(pool: Pool, cooperativeId: string, memberId: string, weight: bigint): Promise<void> {
  if (!isUuid(memberId)) throw new BusinessError('VALIDATION_ERROR', 'memberId must be a UUID');
  const { rowCount } = await inTenantTransaction(pool, cooperativeId, (client) => client.query('UPDATE members SET vote_weight = $2 WHERE id = $1', [memberId, weight]));
  if (rowCount === 0) throw new BusinessError('NOT_FOUND', 'Member not found');
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
  closes_at: Date | null;
  opened_at: Date | null;
  created_at: Date;
  request_hash: string;
  result: unknown;
  audit: unknown;
  signatures: Record<string, string> | null;
  execution_transaction: string | null;
}

const toProposal = (r: ProposalRow): ProposalRecord => ({
  id: r.id, originCooperativeId: r.origin_cooperative_id, stakeholders: r.stakeholders, title: r.title, description: r.description, proposer: r.proposer,
  action: r.action, status: r.status, closesAt: r.closes_at?.toISOString() ?? null, openedAt: r.opened_at?.toISOString() ?? null, createdAt: r.created_at.toISOString(), result: r.result, audit: r.audit, signatures: r.signatures, executionTransaction: r.execution_transaction,
});

/** Each stakeholder's rules for one proposal, fixed when it opens (db/proposal-votes.ts snapshotElectorate). */
/** Each stakeholder's rules at opening, with its own deadline: the end of its voting period. */
export type StakeholderRules = Array<{ cooperativeId: string; settings: GovernanceSettings; votesPublic: boolean; closesAt: Date }>;

/**
 * Records a proposal (idempotent by key), either as a draft or open: an open one gets its window and,
 * in the same transaction, each stakeholder's rules and electorate.
 */
export function createProposal(
  pool: Pool,
  p: { id: string; originCooperativeId: string; stakeholders: string[]; title: string; description: string; proposer: string; action: unknown; idempotencyKey: string } & (
    | { draft: true }
    | { draft: false; closesAt: Date; rules: StakeholderRules }
  ),
): Promise<{ proposal: ProposalRecord; created: boolean }> {
  const hash = requestHash('proposal', { stakeholders: p.stakeholders, title: p.title, description: p.description, proposer: p.proposer, action: p.action ?? null, ...(p.draft ? { draft: true } : {}) });
  // Proposals span cooperatives, so they are kept outside any one tenant; the key is the origin cooperative's.
  return inSystemTransaction(pool, async (client) => {
    const read = async (where: string, values: unknown[]) => (await client.query<ProposalRow>(`SELECT * FROM proposals WHERE ${where}`, values)).rows[0];
    const { row, replayed } = await idempotent(
      p.idempotencyKey,
      hash,
      () => read('origin_cooperative_id = $1 AND idempotency_key = $2', [p.originCooperativeId, p.idempotencyKey]),
      async () => {
        await client.query(
          `INSERT INTO proposals (id, origin_cooperative_id, stakeholders, title, description, proposer, action, status, closes_at, opened_at, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'open' THEN now() END, $10, $11)`,
          [p.id, p.originCooperativeId, p.stakeholders, p.title, p.description, p.proposer, p.action === undefined ? null : JSON.stringify(p.action), p.draft ? 'draft' : 'open', p.draft ? null : p.closesAt, p.idempotencyKey, hash],
        );
        if (!p.draft) await snapshotElectorate(client, p.id, p.rules);
        return (await read('id = $1', [p.id]))!;
      },
    );
    return { proposal: toProposal(row), created: !replayed };
  });
}

/** Opens a draft: its window starts now, with the stakeholders' rules and electorates as they stand. Opening an open proposal again changes nothing. */
export function openDraft(pool: Pool, id: string, opening: { closesAt: Date; rules: StakeholderRules }): Promise<ProposalRecord> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<ProposalRow>("UPDATE proposals SET status = 'open', closes_at = $2, opened_at = now() WHERE id = $1 AND status = 'draft' RETURNING *", [id, opening.closesAt]);
    if (rows[0]) {
      await snapshotElectorate(client, id, opening.rules);
      return toProposal(rows[0]);
    }
    const existing = (await client.query<ProposalRow>('SELECT * FROM proposals WHERE id = $1', [id])).rows[0];
    if (!existing) throw new BusinessError('NOT_FOUND', 'Proposal not found');
    return toProposal(existing);
  });
}

export async function findProposal(pool: Pool, id: string): Promise<ProposalRecord | undefined> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<ProposalRow>('SELECT * FROM proposals WHERE id = $1', [id]));
  return rows[0] && toProposal(rows[0]);
}

export interface ProposalFilter {
  /** The caller's cooperative (proposals it is a stakeholder of), or null for an operator: all. */
  stakeholder: string | null;
  status?: ProposalStatus;
  createdFrom?: Date;
  createdBefore?: Date;
}

/** A page of proposals, newest first, with their status and creation time filters. */
export async function listProposals(pool: Pool, filter: ProposalFilter, page: { limit: number; cursor?: string }): Promise<Page<ProposalRecord>> {
  const position = readCreationCursor(page.cursor);
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<ProposalRow & { position: string }>(
      `SELECT *, ${creationPosition.micros('created_at')} AS position FROM proposals
        WHERE ($1::uuid IS NULL OR stakeholders @> ARRAY[$1::uuid]) AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ${creationPosition.after('created_at', 'id', '$5', '$6')}
        ORDER BY created_at DESC, id DESC LIMIT $7`,
      [filter.stakeholder, filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, position?.micros ?? null, position?.id ?? null, page.limit + 1],
    ),
  );
  return toPage(rows, page.limit, (r) => [r.position, r.id], toProposal);
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
