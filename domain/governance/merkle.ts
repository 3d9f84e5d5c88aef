import type { Choice } from './delegation';
import { formatWeight } from './weights';

/**
 * The commitment a proposal's signed record makes to every vote of one stakeholder cooperative, so a
 * voter can check their vote was counted from the record alone (README "Vote receipts"):
 * - leaves: the cooperative's direct votes as they stood at the close, ordered by member id (the
 *   lower-case UUID text, compared byte by byte);
 * - a leaf's bytes: the UTF-8 of the canonical JSON (keys sorted, no spaces) of
 *   {choice, cooperativeId, memberId, proposalId, reason, weight}, with reason null when none and
 *   weight the voter's decimal weight as text ("1", "1.5");
 * - leaf hash = SHA-256(0x00 ‖ leaf bytes); node hash = SHA-256(0x01 ‖ left ‖ right) (the prefixes
 *   keep a leaf from passing for a node);
 * - each level pairs neighbours from the left; an odd last node moves up unchanged (never paired
 *   with itself, so no two vote lists share a root);
 * - the root is the single node left; with no votes it is SHA-256 of nothing.
 * The hash is passed in: the domain stays free of I/O modules, and callers pass node:crypto's SHA-256.
 */
export type Hash = (data: Uint8Array) => Uint8Array;

export interface VoteLeaf {
  proposalId: string;
  cooperativeId: string;
  memberId: string;
  choice: Choice;
  reason: string | null;
  /** In 1/10000 units; written into the leaf as a decimal. */
  weight: bigint;
}

/** One step up from a leaf: the sibling's hash and on which side of the path it sits. */
export interface ProofStep {
  side: 'left' | 'right';
  hash: string;
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** The canonical JSON of the leaf, written out in its sorted key order (what canonical() gives, without its generic walk: this runs once per vote). */
export function leafBytes(v: VoteLeaf): Buffer {
  const q = JSON.stringify;
  return Buffer.from(`{"choice":${q(v.choice)},"cooperativeId":${q(v.cooperativeId)},"memberId":${q(v.memberId)},"proposalId":${q(v.proposalId)},"reason":${q(v.reason)},"weight":${q(formatWeight(v.weight))}}`, 'utf8');
}

export const leafHash = (hash: Hash, v: VoteLeaf): Buffer => Buffer.from(hash(Buffer.concat([LEAF, leafBytes(v)])));
const nodeHash = (hash: Hash, left: Uint8Array, right: Uint8Array): Buffer => Buffer.from(hash(Buffer.concat([NODE, left, right])));

/** Every level of the tree, leaves first, root last. Leaves must already be in member-id order. */
export function merkleLevels(hash: Hash, leaves: Buffer[]): Buffer[][] {
  const levels = [leaves];
  for (let level = leaves; level.length > 1; ) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(hash, level[i]!, level[i + 1]!) : level[i]!);
    levels.push(next);
    level = next;
  }
  return levels;
}

export function merkleRoot(hash: Hash, levels: Buffer[][]): string {
  const top = levels.at(-1)!;
  return (top.length === 0 ? Buffer.from(hash(new Uint8Array(0))) : top[0]!).toString('hex');
}

/** How many nodes each level holds, leaves first: the tree's shape follows from its leaf count alone. */
export function levelSizes(leafCount: number): number[] {
  const sizes = [leafCount];
  for (let n = leafCount; n > 1; ) sizes.push((n = Math.ceil(n / 2)));
  return sizes;
}

/** Where a node sits: its level (0 = leaves) and its position in that level. */
export interface NodePosition {
  level: number;
  position: number;
}

/**
 * Where the proof of the leaf at `index` takes its siblings from, from the leaf up, and on which side
 * each sits: a receipt reads just these nodes (an odd node that moved up has no sibling at that level).
 */
export function proofPositions(leafCount: number, index: number): Array<NodePosition & { side: ProofStep['side'] }> {
  const sizes = levelSizes(leafCount);
  const steps: Array<NodePosition & { side: ProofStep['side'] }> = [];
  for (let level = 0, i = index; level < sizes.length - 1; level++, i = Math.floor(i / 2)) {
    const sibling = i % 2 === 0 ? i + 1 : i - 1;
    if (sibling < sizes[level]!) steps.push({ level, position: sibling, side: i % 2 === 0 ? 'right' : 'left' });
  }
  return steps;
}

/** Whether `proof` leads from the leaf to `root` (hex). */
export function verifyProof(hash: Hash, leaf: VoteLeaf, proof: ProofStep[], root: string): boolean {
  let node = leafHash(hash, leaf);
  for (const step of proof) {
    const sibling = Buffer.from(step.hash, 'hex');
    node = step.side === 'left' ? nodeHash(hash, sibling, node) : nodeHash(hash, node, sibling);
  }
  return node.toString('hex') === root;
}
