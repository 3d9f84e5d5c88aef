import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../domain/errors';
import { isUuid } from '../domain/ids';
import { VOTE_CHOICES, type Choice } from '../domain/governance/delegation';
import { type Hash, type NodePosition, type VoteLeaf } from '../domain/governance/merkle';
import { choiceRefusal, modelsAllowing } from '../domain/governance/proposal';
import type { GovernanceModel, GovernanceSettings } from '../domain/governance/settings';
import { emptyTotals, type TallyTotals } from '../domain/governance/tally';
import { readCursor, toPage, type Page } from './cursor';
import type { StakeholderRules } from './governance';
import { inSystemTransaction, writeInNetwork } from './transaction';
import { prepared } from './prepared';

/**
 * A proposal's electorate, votes and frozen delegation graph (decision 0020). Votes are rows written
 * by the API: one per (proposal, member), the latest counting. Every vote takes the proposal's
 * advisory lock shared and checks the window in its own transaction; the close takes it exclusive, so
 * once it has committed no vote can land, and every vote that committed before it is counted.
 */

/** SHA-256, the hash of the vote commitment (domain/governance/merkle.ts). */
export const sha256: Hash = (data) => createHash('sha256').update(data).digest();

// One key per proposal: votes take it shared, the closes exclusive.
const LOCK_KEY = "hashtextextended('proposal-votes:' || $1::uuid::text, 0)";
const lockShared = prepared('proposal_votes_lock_shared', `SELECT pg_advisory_xact_lock_shared(${LOCK_KEY})`);
const lockExclusive = prepared('proposal_votes_lock', `SELECT pg_advisory_xact_lock(${LOCK_KEY})`);

/**
 * Votes on one proposal in one statement, prepared (planning it cost more than running it; decision
 * 0032), sent with the lock, its transaction and COMMIT in one message; one vote or many, one member at
 * most once. For each vote it reads the proposal's state and writes the vote only when that state
 * allows it: the voter's cooperative a stakeholder, the window open, the voter in the electorate frozen
 * at opening, and the model one of the vote's allowed models (domain modelsAllowing, comma-joined, so
 * the rule of which choices a model takes stays in the domain). One row per vote (`n`, its place) is the
 * state it saw, from which castVotes names a refusal; a refused vote wrote nothing. The vote_cast
 * governance event is written by the same statement, so it exists exactly when the vote (or its change)
 * does: keyed by the vote's version, a replay (which changes no row) writes none and each change writes
 * one. Votes are written in member order, the order concurrent statements lock their rows in.
 */
const castVotesStatement = prepared(
  'proposal_votes_cast',
  `WITH input AS (
     SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS v(cooperative_id, member_id, choice, reason, allowed, n)
   ), state AS (
     SELECT v.*, p.status, v.cooperative_id = ANY (p.stakeholders) AS stakeholder,
            (p.status = 'open' AND p.voting_closed_at IS NULL AND s.voting_closed_at IS NULL AND s.closes_at > now()) AS open, s.model,
            EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = p.id AND e.member_id = v.member_id AND e.cooperative_id = v.cooperative_id) AS eligible
       FROM input v JOIN proposals p ON p.id = $1::uuid LEFT JOIN proposal_stakeholders s ON s.proposal_id = p.id AND s.cooperative_id = v.cooperative_id
   ), vote AS (
     INSERT INTO proposal_votes (proposal_id, cooperative_id, member_id, choice, reason)
     SELECT $1::uuid, cooperative_id, member_id, choice, reason FROM state
      WHERE stakeholder AND open AND eligible AND model = ANY (string_to_array(allowed, ','))
      ORDER BY member_id
     ON CONFLICT (proposal_id, member_id) DO UPDATE SET choice = EXCLUDED.choice, reason = EXCLUDED.reason, version = proposal_votes.version + 1, cast_at = now()
       WHERE (proposal_votes.choice, proposal_votes.reason) IS DISTINCT FROM (EXCLUDED.choice, EXCLUDED.reason)
     RETURNING cooperative_id, member_id, choice, version
   ), event AS (
     INSERT INTO economic_events (id, type, cooperative_id, cooperatives, aggregate_id, payload, recorded_by, idempotency_key, request_hash)
     SELECT gen_random_uuid(), 'vote_cast', vote.cooperative_id, ARRAY[vote.cooperative_id], $1::uuid,
            jsonb_build_object('proposalId', $1::uuid, 'memberId', vote.member_id, 'choice', vote.choice, 'version', vote.version),
            'member:' || vote.member_id, 'vote:' || $1::uuid || ':' || vote.member_id || ':' || vote.version, 'vote'
       FROM vote ORDER BY vote.member_id
   )
   SELECT n, status, stakeholder, open, model, eligible FROM state`,
);

function uuid(value: string, name: string): string {
  if (!isUuid(value)) throw new BusinessError('VALIDATION_ERROR', `${name} must be a UUID`);
  return value.toLowerCase();
}

export interface StakeholderSnapshot {
  cooperativeId: string;
  settings: GovernanceSettings;
  votesPublic: boolean;
  members: number;
  totalWeight: bigint;
  /** Its own deadline: the end of its voting period from the opening. */
  closesAt: string;
}

/**
 * Inside the opening transaction: each stakeholder's rules (as given) and eligible members with their
 * weights, as they stand now. Two statements per stakeholder, whatever its size.
 */
export async function snapshotElectorate(client: PoolClient, proposalId: string, stakeholders: StakeholderRules): Promise<void> {
  for (const s of stakeholders) {
    const { rows } = await client.query<{ members: number; total: string }>(
      `WITH settled AS (
         INSERT INTO proposal_stakeholders (proposal_id, cooperative_id, model, settings, votes_public, closes_at, members, total_weight)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 0) ON CONFLICT DO NOTHING RETURNING proposal_id
       ), electorate AS (
         INSERT INTO proposal_electorate (proposal_id, member_id, cooperative_id, weight)
         SELECT $1, m.id, m.cooperative_id, m.vote_weight FROM members m, settled WHERE m.cooperative_id = $2
         RETURNING weight
       )
       SELECT count(*)::int AS members, coalesce(sum(weight), 0)::text AS total FROM electorate`,
      [proposalId, s.cooperativeId, s.settings.model, JSON.stringify(s.settings), s.votesPublic, s.closesAt],
    );
    await client.query('UPDATE proposal_stakeholders SET members = $3, total_weight = $4 WHERE proposal_id = $1 AND cooperative_id = $2', [proposalId, s.cooperativeId, rows[0]!.members, rows[0]!.total]);
  }
}

interface StakeholderRow {
  cooperative_id: string;
  settings: GovernanceSettings;
  votes_public: boolean;
  members: number;
  total_weight: bigint;
  closes_at: Date;
}

export async function stakeholderSnapshots(pool: Pool, proposalId: string): Promise<StakeholderSnapshot[]> {
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<StakeholderRow>(
      `SELECT s.cooperative_id, s.settings, s.votes_public, s.members, s.total_weight, s.closes_at FROM proposal_stakeholders s JOIN proposals p ON p.id = s.proposal_id
        WHERE s.proposal_id = $1 ORDER BY array_position(p.stakeholders, s.cooperative_id)`,
      [proposalId],
    ),
  );
  return rows.map((r) => ({ cooperativeId: r.cooperative_id, settings: r.settings, votesPublic: r.votes_public, members: r.members, totalWeight: r.total_weight, closesAt: r.closes_at.toISOString() }));
}

export interface CastVote {
  proposalId: string;
  cooperativeId: string;
  memberId: string;
  choice: Choice;
  reason?: string;
}

type VoteState = { status: string; stakeholder: boolean; open: boolean; model: GovernanceModel | null; eligible: boolean };

/** Why the state a vote's statement saw refused it, checked in the order refusals are named; undefined when it was written. */
function refusalOf(row: VoteState | undefined, v: CastVote): BusinessError | undefined {
  if (!row || !row.stakeholder) return new BusinessError('NOT_FOUND', 'Proposal not found');
  if (row.status === 'draft') return new BusinessError('CONFLICT', 'The proposal is a draft: its voting window has not opened');
  if (!row.open) return new BusinessError('CONFLICT', 'The voting window is closed');
  if (!row.model || !row.eligible) return new BusinessError('FORBIDDEN', 'Only members of a stakeholder cooperative, eligible when the proposal opened, may vote');
  return choiceRefusal(row.model, v.choice, v.reason);
}

/**
 * Records members' votes, or changes them: the latest counts. A repeat of the vote a member already has
 * changes nothing (not even its version), so replays and concurrent duplicates are harmless. Each vote
 * is refused on its own: NOT_FOUND when the voter's cooperative is not a stakeholder (the proposal is
 * not theirs to see), CONFLICT outside the window, FORBIDDEN for a member who was not eligible at
 * opening, VALIDATION_ERROR for a choice the cooperative's model has no place for. Votes on several
 * proposals go together, one statement per proposal, in one transaction and one round trip; a member
 * votes at most once per proposal in one call. Should the transaction fail, each vote is cast again on
 * its own, so one vote's failure (a constraint the checks did not foresee) is that vote's alone.
 * Answers per vote, in order: undefined once written, else the error to answer it with (its refusal, or
 * the failure of its own transaction).
 */
export async function castVotes(pool: Pool, votes: readonly CastVote[]): Promise<unknown[]> {
  const outcomes: unknown[] = new Array(votes.length);
  const byProposal = new Map<string, Array<{ at: number; v: CastVote }>>();
  const voters = new Set<string>();
  votes.forEach((raw, at) => {
    try {
      const v = { ...raw, proposalId: uuid(raw.proposalId, 'proposalId'), memberId: uuid(raw.memberId, 'memberId'), cooperativeId: uuid(raw.cooperativeId, 'cooperativeId') };
      if (!(VOTE_CHOICES as readonly string[]).includes(v.choice)) throw new BusinessError('VALIDATION_ERROR', 'Unknown choice');
      if (voters.has(`${v.proposalId}:${v.memberId}`)) throw new RangeError('a member votes at most once per proposal in one call');
      voters.add(`${v.proposalId}:${v.memberId}`);
      const group = byProposal.get(v.proposalId);
      if (group) group.push({ at, v });
      else byProposal.set(v.proposalId, [{ at, v }]);
    } catch (err) {
      if (!(err instanceof BusinessError)) throw err;
      outcomes[at] = err;
    }
  });
  if (byProposal.size === 0) return outcomes;
  // Shared locks in one order, so a batch and a close (which takes one exclusively) cannot deadlock on two.
  const groups = [...byProposal].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g);
  const statements = groups.flatMap((g) => {
    const proposalId = g[0]!.v.proposalId;
    const column = <T>(f: (v: CastVote) => T) => g.map(({ v }) => f(v));
    return [
      lockShared(proposalId),
      castVotesStatement(proposalId, column((v) => v.cooperativeId), column((v) => v.memberId), column((v) => v.choice), column((v) => v.reason ?? null), column((v) => modelsAllowing(v.choice, v.reason).join(','))),
    ];
  });
  let results;
  try {
    results = await writeInNetwork(pool, statements);
  } catch (err) {
    const sent = groups.flat();
    if (sent.length === 1) throw err;
    await Promise.all(sent.map(async ({ at, v }) => (outcomes[at] = await castVotes(pool, [v]).then(([o]) => o, (e: unknown) => e))));
    return outcomes;
  }
  groups.forEach((g, i) => {
    const rows = new Map((results[2 * i + 1]!.rows as Array<VoteState & { n: string }>).map((r) => [Number(r.n), r]));
    g.forEach(({ at, v }, k) => (outcomes[at] = refusalOf(rows.get(k + 1), v)));
  });
  return outcomes;
}

/** Records one member's vote, or changes it (castVotes); throws its refusal. One round trip. */
export async function castVote(pool: Pool, v: CastVote): Promise<void> {
  const [outcome] = await castVotes(pool, [v]);
  if (outcome !== undefined) throw outcome;
}

/**
 * Closes one stakeholder's voting at its own deadline, before the proposal's last: its members' votes
 * are refused from then on. Waits for its votes in flight, like the close.
 */
export async function closeStakeholderVoting(pool: Pool, proposalId: string, cooperativeId: string): Promise<void> {
  const id = uuid(proposalId, 'proposalId');
  await inSystemTransaction(
    pool,
    (client) => client.query('UPDATE proposal_stakeholders SET voting_closed_at = now() WHERE proposal_id = $1 AND cooperative_id = $2 AND voting_closed_at IS NULL', [id, uuid(cooperativeId, 'cooperativeId')]),
    [lockExclusive(id)],
  );
}

/**
 * Ends the voting window, once: waits for votes in flight (the exclusive lock), marks the proposal
 * closed to votes and freezes each stakeholder's delegation graph as it stands now (for those that
 * allow delegation). A repeat changes nothing, so the frozen graph is the first close's.
 */
export async function closeVoting(pool: Pool, proposalId: string): Promise<void> {
  const id = uuid(proposalId, 'proposalId');
  await inSystemTransaction(
    pool,
    async (client) => {
      const { rowCount } = await client.query("UPDATE proposals SET voting_closed_at = now() WHERE id = $1 AND status = 'open' AND voting_closed_at IS NULL", [id]);
      if (rowCount === 0) return;
      await client.query(
        `INSERT INTO proposal_delegations (proposal_id, cooperative_id, delegator, delegate)
         SELECT s.proposal_id, d.cooperative_id, d.delegator, d.delegate
           FROM proposal_stakeholders s JOIN delegations d ON d.cooperative_id = s.cooperative_id
          WHERE s.proposal_id = $1 AND (s.settings ->> 'delegationAllowed')::boolean`,
        [id],
      );
    },
    [lockExclusive(id)],
  );
}

export interface ElectorateRow {
  memberId: string;
  weight: bigint;
  choice: Choice | null;
  reason: string | null;
}

/**
 * One page of a stakeholder's electorate, in member-id order, with each member's direct vote:
 * the tally and the commitment read the electorate in bounded pages.
 */
export async function electoratePage(pool: Pool, proposalId: string, cooperativeId: string, after: string | null, limit: number): Promise<ElectorateRow[]> {
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ member_id: string; weight: bigint; choice: Choice | null; reason: string | null }>(
      `SELECT e.member_id, e.weight, v.choice, v.reason
         FROM proposal_electorate e LEFT JOIN proposal_votes v ON v.proposal_id = e.proposal_id AND v.member_id = e.member_id
        WHERE e.proposal_id = $1 AND e.cooperative_id = $2 AND ($3::uuid IS NULL OR e.member_id > $3::uuid)
        ORDER BY e.member_id LIMIT $4`,
      [proposalId, cooperativeId, after, limit],
    ),
  );
  return rows.map((r) => ({ memberId: r.member_id, weight: r.weight, choice: r.choice, reason: r.reason }));
}

/** Every vote of a stakeholder as leaves of the commitment, in member-id order, read in bounded pages. */
export async function voteLeaves(pool: Pool, proposalId: string, cooperativeId: string, pageSize = 10_000): Promise<VoteLeaf[]> {
  const leaves: VoteLeaf[] = [];
  for (let after: string | null = null; ; ) {
    const page = await electoratePage(pool, proposalId, cooperativeId, after, pageSize);
    for (const r of page) if (r.choice) leaves.push({ proposalId, cooperativeId, memberId: r.memberId, choice: r.choice, reason: r.reason, weight: r.weight });
    if (page.length < pageSize) return leaves;
    after = page.at(-1)!.memberId;
  }
}

/**
 * Stores a stakeholder's vote tree level by level, once: the votes are closed when it is built, so a
 * repeat (a retried tally) would write the same and changes nothing.
 */
export async function storeVoteTree(pool: Pool, proposalId: string, cooperativeId: string, levels: Buffer[][]): Promise<void> {
  await inSystemTransaction(pool, (client) =>
    client.query(
      `INSERT INTO proposal_vote_tree (proposal_id, cooperative_id, level, hashes)
       SELECT $1, $2, level - 1, hashes FROM unnest($3::bytea[]) WITH ORDINALITY AS l(hashes, level)
       ON CONFLICT DO NOTHING`,
      [uuid(proposalId, 'proposalId'), uuid(cooperativeId, 'cooperativeId'), levels.map((nodes) => Buffer.concat(nodes))],
    ),
  );
}

/** A member's vote as a leaf of their cooperative's tree, and its position among the leaves; undefined when they have no vote there. */
export async function voteLeaf(pool: Pool, proposalId: string, cooperativeId: string, memberId: string): Promise<{ leaf: VoteLeaf; index: number } | undefined> {
  const ids = [uuid(proposalId, 'proposalId'), uuid(cooperativeId, 'cooperativeId'), uuid(memberId, 'memberId')] as const;
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ choice: Choice; reason: string | null; weight: bigint; index: number }>(
      `SELECT v.choice, v.reason, e.weight,
              (SELECT count(*) FROM proposal_votes w WHERE w.proposal_id = $1 AND w.cooperative_id = $2 AND w.member_id < $3)::int AS index
         FROM proposal_votes v JOIN proposal_electorate e ON e.proposal_id = v.proposal_id AND e.member_id = v.member_id
        WHERE v.proposal_id = $1 AND v.cooperative_id = $2 AND v.member_id = $3`,
      [...ids],
    ),
  );
  const r = rows[0];
  return r && { leaf: { proposalId: ids[0], cooperativeId: ids[1], memberId: ids[2], choice: r.choice, reason: r.reason, weight: BigInt(r.weight) }, index: r.index };
}

/** The nodes of a stakeholder's stored tree at `positions`, by "level:position"; none when its tree was not stored. */
export async function voteTreeNodes(pool: Pool, proposalId: string, cooperativeId: string, positions: NodePosition[]): Promise<Map<string, Buffer>> {
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ level: number; position: number; hash: Buffer }>(
      `SELECT t.level, p.position, substring(t.hashes FROM p.position * 32 + 1 FOR 32) AS hash
         FROM unnest($3::smallint[], $4::int[]) AS p(level, position)
         JOIN proposal_vote_tree t ON t.proposal_id = $1 AND t.cooperative_id = $2 AND t.level = p.level`,
      [uuid(proposalId, 'proposalId'), uuid(cooperativeId, 'cooperativeId'), positions.map((p) => p.level), positions.map((p) => p.position)],
    ),
  );
  return new Map(rows.filter((r) => r.hash.length === 32).map((r) => [`${r.level}:${r.position}`, r.hash]));
}

/** A stakeholder's frozen delegation graph (empty before the close, or when it does not allow delegation). */
export async function frozenDelegations(pool: Pool, proposalId: string, cooperativeId: string): Promise<Map<string, string>> {
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ delegator: string; delegate: string }>('SELECT delegator, delegate FROM proposal_delegations WHERE proposal_id = $1 AND cooperative_id = $2 ORDER BY delegator', [proposalId, cooperativeId]),
  );
  return new Map(rows.map((r) => [r.delegator, r.delegate]));
}

/** The live totals of direct votes (delegations count only at the close), summed by the database. */
export async function directTotals(pool: Pool, proposalId: string): Promise<Map<string, TallyTotals>> {
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<Record<string, string> & { cooperative_id: string; dissenters: number; reasoned: number }>(
      `SELECT s.cooperative_id, s.total_weight::text AS eligible,
              coalesce(sum(e.weight) FILTER (WHERE v.choice IS NOT NULL), 0)::text AS participating,
              coalesce(sum(e.weight) FILTER (WHERE v.choice = 'yes'), 0)::text AS yes,
              coalesce(sum(e.weight) FILTER (WHERE v.choice = 'no'), 0)::text AS no,
              coalesce(sum(e.weight) FILTER (WHERE v.choice = 'abstain'), 0)::text AS abstain,
              coalesce(sum(e.weight) FILTER (WHERE v.choice = 'block'), 0)::text AS block,
              coalesce(sum(e.weight) FILTER (WHERE v.choice = 'objection'), 0)::text AS objection,
              count(v.member_id) FILTER (WHERE v.choice IN ('no', 'block'))::int AS dissenters,
              count(v.member_id) FILTER (WHERE v.choice = 'objection' AND v.reason IS NOT NULL)::int AS reasoned
         FROM proposal_stakeholders s
         LEFT JOIN proposal_votes v ON v.proposal_id = s.proposal_id AND v.cooperative_id = s.cooperative_id
         LEFT JOIN proposal_electorate e ON e.proposal_id = v.proposal_id AND e.member_id = v.member_id
        WHERE s.proposal_id = $1
        GROUP BY s.cooperative_id, s.total_weight`,
      [proposalId],
    ),
  );
  return new Map(
    rows.map((r) => {
      const totals = emptyTotals();
      for (const key of ['eligible', 'participating', 'yes', 'no', 'abstain', 'block', 'objection'] as const) totals[key] = BigInt(r[key]!);
      return [r.cooperative_id, { ...totals, dissenters: r.dissenters, reasonedObjections: r.reasoned }];
    }),
  );
}

export interface VoteView {
  memberId: string;
  cooperativeId: string;
  choice: Choice;
  reason: string | null;
  weight: bigint;
  version: number;
  castAt: string;
}

const readMemberCursor = (cursor: string | undefined) =>
  readCursor(cursor, ([id]) => {
    if (typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
    return id;
  });

/** A page of a proposal's votes in the given stakeholders, in member-id order. */
export async function listVotes(pool: Pool, proposalId: string, cooperativeIds: string[], page: { limit: number; cursor?: string }): Promise<Page<VoteView>> {
  const after = readMemberCursor(page.cursor) ?? null;
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ member_id: string; cooperative_id: string; choice: Choice; reason: string | null; weight: bigint; version: number; cast_at: Date }>(
      `SELECT v.member_id, v.cooperative_id, v.choice, v.reason, e.weight, v.version, v.cast_at
         FROM proposal_votes v JOIN proposal_electorate e ON e.proposal_id = v.proposal_id AND e.member_id = v.member_id
        WHERE v.proposal_id = $1 AND v.cooperative_id = ANY($2::uuid[]) AND ($3::uuid IS NULL OR v.member_id > $3::uuid)
        ORDER BY v.member_id LIMIT $4`,
      [proposalId, cooperativeIds, after, page.limit + 1],
    ),
  );
  return toPage(rows, page.limit, (r) => [r.member_id], (r) => ({ memberId: r.member_id, cooperativeId: r.cooperative_id, choice: r.choice, reason: r.reason, weight: r.weight, version: r.version, castAt: r.cast_at.toISOString() }));
}

/** A page of a proposal's frozen delegation graph, in delegator order. */
export async function listFrozenDelegations(pool: Pool, proposalId: string, page: { limit: number; cursor?: string }): Promise<Page<{ cooperativeId: string; delegator: string; delegate: string }>> {
  const after = readMemberCursor(page.cursor) ?? null;
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ cooperative_id: string; delegator: string; delegate: string }>(
      `SELECT cooperative_id, delegator, delegate FROM proposal_delegations
        WHERE proposal_id = $1 AND ($2::uuid IS NULL OR delegator > $2::uuid) ORDER BY delegator LIMIT $3`,
      [proposalId, after, page.limit + 1],
    ),
  );
  return toPage(rows, page.limit, (r) => [r.delegator], (r) => ({ cooperativeId: r.cooperative_id, delegator: r.delegator, delegate: r.delegate }));
}
