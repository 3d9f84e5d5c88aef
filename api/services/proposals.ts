import { randomUUID, verify } from 'node:crypto';
import { findCooperativeById } from '../../db/cooperatives';
import { createProposal, governanceSettings, openDraft, type StakeholderRules } from '../../db/governance';
import { existingMembers } from '../../db/members';
import { directTotals, sha256, stakeholderSnapshots, storeVoteTree, voteLeaf, voteLeaves, voteTreeNodes } from '../../db/proposal-votes';
import { canonical } from '../../domain/canonical-json';
import { leafHash, merkleLevels, proofPositions, verifyProof, type NodePosition } from '../../domain/governance/merkle';
import { modelFor, type ProposalRecord } from '../../domain/governance/proposal';
import { decide } from '../../domain/governance/tally';
import { formatWeight } from '../../domain/governance/weights';
import { formatMicros, parseMicros } from '../../domain/money';
import { proposal, proposalWorkflowId, type ProposalResults } from '../../workflows/proposal';
import type { CreateProposalBody } from '../contracts/governance';
import type { z } from '../contracts/zod';
import { startOnce } from '../await-workflow';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

export interface OpenProposalRequest {
  originCooperativeId: string;
  proposer: string;
  /** `draft` may be left out by callers that build the body themselves (e.g. a booking's proposal): it opens at once. */
  body: Omit<z.output<typeof CreateProposalBody>, 'draft'> & { draft?: boolean };
  idempotencyKey: string;
}

/** The stored action's amount (a decimal string), in micro-CLOUD. */
const actionAmount = (action: unknown): bigint | null => {
  const amount = (action as { amount?: unknown } | null)?.amount;
  return typeof amount === 'string' ? parseMicros(amount) : null;
};

/** Each stakeholder's rules as they stand now, with a supermajority where its budget threshold says so. */
/**
 * The stakeholders' rules as they stand, for a proposal opening at `opened`: each decides within its own
 * voting period, and the proposal closes when the last one has.
 */
async function currentRules(deps: ApiDependencies, stakeholders: string[], amount: bigint | null, opened: number): Promise<{ rules: StakeholderRules; closesAt: Date }> {
  const all = await Promise.all(stakeholders.map((id) => governanceSettings(deps.pool, id)));
  const rules = all.map((s, i) => ({
    cooperativeId: stakeholders[i]!,
    settings: { model: modelFor(s.model, s.supermajorityAbove, amount), quorum: s.quorum, majority: s.majority, supermajority: s.supermajority, delegationAllowed: s.delegationAllowed },
    votesPublic: s.votesPublic,
    closesAt: new Date(opened + s.votingPeriodSeconds * 1000),
  }));
  return { rules, closesAt: new Date(Math.max(...rules.map((r) => r.closesAt.getTime()))) };
}

/** Starts the proposal's workflow once (a retry joins the running one; a finished one never runs again). */
async function startWindow(deps: ApiDependencies, p: ProposalRecord): Promise<void> {
  const action = p.action as { type: 'credit_transfer'; cooperativeId: string; fromMemberId: string; toMemberId: string; amount: string } | null;
  await startOnce(deps, () =>
    deps.temporal.workflow.start(proposal, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: proposalWorkflowId(p.id),
      args: [{ proposalId: p.id, closesAt: p.closesAt!, stakeholders: p.stakeholders, ...(action ? { action: { ...action, amount: parseMicros(action.amount) } } : {}) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
}

/**
 * Opens a proposal, or saves it as a draft: checks its stakeholders and action, records it
 * (idempotent by key) with, when open, each stakeholder's rules and electorate as they stand now, then
 * starts its workflow. The workflow is started on every request, once per proposal, so a retry after
 * a failed start still gets it.
 */
export async function openProposal(deps: ApiDependencies, req: OpenProposalRequest): Promise<{ proposal: ProposalRecord; created: boolean }> {
  const { body } = req;
  const stakeholders = [...new Set([req.originCooperativeId, ...body.stakeholderCooperativeIds])];
  for (const id of stakeholders) if (!(await findCooperativeById(deps.pool, id))) throw new ApiError('NOT_FOUND', `Cooperative ${id} not found`);
  if (body.action) {
    const { cooperativeId, fromMemberId, toMemberId } = body.action;
    if (!stakeholders.includes(cooperativeId)) throw new ApiError('VALIDATION_ERROR', "The action's cooperative must be a stakeholder");
    // An action that names strangers could never execute: refuse it now rather than after the vote.
    const members = await existingMembers(deps.pool, cooperativeId, [fromMemberId, toMemberId]);
    const strangers = [fromMemberId, toMemberId].filter((id) => !members.has(id));
    if (strangers.length > 0) throw new ApiError('VALIDATION_ERROR', `The action names ${strangers.join(', ')}, not members of cooperative ${cooperativeId}`, [{ path: 'body.action', message: 'members must belong to the action\'s cooperative' }]);
  }
  const action = body.action && { ...body.action, amount: formatMicros(body.action.amount) };
  const common = { id: randomUUID(), originCooperativeId: req.originCooperativeId, stakeholders, title: body.title, description: body.description, proposer: req.proposer, action, idempotencyKey: req.idempotencyKey };
  if (body.draft) return createProposal(deps.pool, { ...common, draft: true });
  const { rules, closesAt } = await currentRules(deps, stakeholders, body.action?.amount ?? null, Date.now());
  const { proposal: p, created } = await createProposal(deps.pool, { ...common, draft: false, closesAt, rules });
  if (p.status !== 'draft') await startWindow(deps, p);
  return { proposal: p, created };
}

/** Opens a draft now (its window, rules and electorate from this moment); an open or closed one is returned as it is. */
export async function openDraftProposal(deps: ApiDependencies, p: ProposalRecord): Promise<ProposalRecord> {
  let opened = p;
  if (p.status === 'draft') {
    const { rules, closesAt } = await currentRules(deps, p.stakeholders, actionAmount(p.action), Date.now());
    opened = await openDraft(deps.pool, p.id, { closesAt, rules });
  }
  if (opened.status !== 'draft') await startWindow(deps, opened);
  return opened;
}

/** Weights in results are decimals, as members set them. */
const viewTally = (tally: ProposalResults['cooperatives'][number]['tally']) => ({
  ...tally,
  totals: { ...tally.totals, ...Object.fromEntries((['eligible', 'participating', 'yes', 'no', 'abstain', 'block', 'objection'] as const).map((k) => [k, formatWeight(BigInt(tally.totals[k]))])) },
});

/**
 * Results: while open, each stakeholder's direct votes summed by the database (delegations count at
 * the close); after it, the final tallies as recorded.
 */
export async function proposalResults(deps: ApiDependencies, p: ProposalRecord) {
  if (p.status === 'draft') return { status: p.status, closesAt: null, cooperatives: [] };
  if (p.status !== 'open') {
    // Proposals closed before decision 0020 recorded only their status.
    const recorded = p.result as Partial<ProposalResults>;
    return { ...recorded, cooperatives: (recorded.cooperatives ?? []).map((c) => ({ cooperativeId: c.cooperativeId, tally: viewTally(c.tally) })) };
  }
  const [snapshots, totals] = await Promise.all([stakeholderSnapshots(deps.pool, p.id), directTotals(deps.pool, p.id)]);
  return JSON.parse(
    canonical({ status: p.status, closesAt: p.closesAt, cooperatives: snapshots.map((s) => ({ cooperativeId: s.cooperativeId, tally: viewTally(decide(s.settings, totals.get(s.cooperativeId)!)) })) }),
  );
}

/** A closed proposal's signed record, with each stakeholder's signature checked against its public key. */
export async function verifiedAudit(deps: ApiDependencies, p: ProposalRecord) {
  if (!p.audit || !p.signatures) throw new ApiError('CONFLICT', 'The proposal is still open');
  const message = Buffer.from(canonical(p.audit));
  const verified: Record<string, boolean> = {};
  for (const [cooperativeId, signature] of Object.entries(p.signatures)) {
    const { publicKey } = await governanceSettings(deps.pool, cooperativeId);
    verified[cooperativeId] = verify(null, message, publicKey, Buffer.from(signature, 'base64'));
  }
  return { audit: p.audit, signatures: p.signatures, verified, executionTransaction: p.executionTransaction };
}

/**
 * The nodes of a stakeholder's tree at `positions`, read from the tree the tally stored; a tree that
 * was never stored (tallied before trees were kept) is built from the closed votes and stored first.
 */
async function treeNodes(deps: ApiDependencies, proposalId: string, cooperativeId: string, positions: NodePosition[]): Promise<Map<string, Buffer>> {
  const nodes = await voteTreeNodes(deps.pool, proposalId, cooperativeId, positions);
  if (nodes.size === positions.length) return nodes;
  const leaves = await voteLeaves(deps.pool, proposalId, cooperativeId);
  await storeVoteTree(deps.pool, proposalId, cooperativeId, merkleLevels(sha256, leaves.map((l) => leafHash(sha256, l))));
  return voteTreeNodes(deps.pool, proposalId, cooperativeId, positions);
}

/**
 * A voter's receipt: their vote as a leaf of their cooperative's tree, the path of siblings to the
 * root the signed record holds, and the signature and key to check that record with. Reads one node
 * per level of the stored tree, whatever the number of votes.
 */
export async function voteReceipt(deps: ApiDependencies, p: ProposalRecord, memberId: string) {
  if (!p.audit || !p.signatures) throw new ApiError('CONFLICT', 'Receipts exist once the proposal has closed');
  const audit = p.audit as { cooperatives: Array<{ cooperativeId: string; votes: { count: number; merkleRoot: string } }> };
  for (const c of audit.cooperatives) {
    const found = await voteLeaf(deps.pool, p.id, c.cooperativeId, memberId);
    if (!found) continue;
    const { leaf, index } = found;
    const steps = proofPositions(c.votes.count, index);
    const nodes = await treeNodes(deps, p.id, c.cooperativeId, [{ level: 0, position: index }, ...steps]);
    const proof = steps.map((s) => ({ side: s.side, hash: nodes.get(`${s.level}:${s.position}`)?.toString('hex') ?? '' }));
    // The vote as the rows hold it and the stored path must lead to the signed root; anything else is tampering worth a loud failure.
    if (!nodes.get(`0:${index}`)?.equals(leafHash(sha256, leaf)) || !verifyProof(sha256, leaf, proof, c.votes.merkleRoot)) {
      throw new Error(`votes of proposal ${p.id} no longer match the signed root`);
    }
    return {
      leaf: { ...leaf, weight: formatWeight(leaf.weight) },
      leafIndex: index,
      leafCount: c.votes.count,
      proof,
      merkleRoot: c.votes.merkleRoot,
      signature: p.signatures[c.cooperativeId]!,
      publicKey: (await governanceSettings(deps.pool, c.cooperativeId)).publicKey,
      algorithm: 'sha256 merkle: leaf = H(0x00 || canonical JSON {choice, cooperativeId, memberId, proposalId, reason, weight}); node = H(0x01 || left || right); member-id order; odd node moves up',
    };
  }
  throw new ApiError('NOT_FOUND', 'No vote of this member in the proposal');
}
