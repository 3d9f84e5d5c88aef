import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { resolveVotes, type Choice, type Vote } from '../../domain/governance/delegation';
import { canonical } from '../../domain/canonical-json';
import { leafBytes, leafHash, levelSizes, merkleLevels, merkleRoot, proofPositions, verifyProof, type Hash, type VoteLeaf } from '../../domain/governance/merkle';
import { modelFor } from '../../domain/governance/proposal';
import { DEFAULT_GOVERNANCE } from '../../domain/governance/settings';
import { tally } from '../../domain/governance/tally';
import { formatWeight, parseWeight } from '../../domain/governance/weights';

const sha256: Hash = (d) => createHash('sha256').update(d).digest();

/** The resolution as it was before decision 0020: each member's chain walked on its own (quadratic, but obviously right). */
function walkEach(eligible: string[], direct: Map<string, Vote>, delegations: Map<string, string>) {
  const effective = new Map<string, { choice: Choice; castBy: string }>();
  for (const member of eligible) {
    const own = direct.get(member);
    if (own) {
      effective.set(member, { choice: own.choice, castBy: member });
      continue;
    }
    const visited = new Set([member]);
    for (let next = delegations.get(member); next !== undefined && !visited.has(next); next = delegations.get(next)) {
      visited.add(next);
      const vote = direct.get(next);
      if (vote) {
        effective.set(member, { choice: vote.choice === 'block' || vote.choice === 'objection' ? 'no' : vote.choice, castBy: next });
        break;
      }
    }
  }
  return effective;
}

describe('linear delegation', () => {
  const N = 100_000;
  const ids = Array.from({ length: N }, (_, i) => `m${i}`);

  it('resolves a 100,000-long chain in a linear number of steps (walking each chain would take ~5 billion)', () => {
    // m0 → m1 → … → m99999, who voted.
    const delegations = new Map(ids.slice(0, -1).map((id, i) => [id, ids[i + 1]!]));
    const stats = { steps: 0 };
    const votes = resolveVotes(ids, new Map([[ids.at(-1)!, { choice: 'yes' as const }]]), delegations, stats);
    expect(votes.size).toBe(N);
    expect(votes.get('m0')).toMatchObject({ choice: 'yes', castBy: ids.at(-1), delegated: true });
    expect(stats.steps).toBeLessThanOrEqual(3 * N);
  });

  it('finds a loop through every member once, and casts nothing for it', () => {
    const delegations = new Map(ids.map((id, i) => [id, ids[(i + 1) % N]!]));
    const stats = { steps: 0 };
    expect(resolveVotes(ids, new Map(), delegations, stats).size).toBe(0);
    expect(stats.steps).toBeLessThanOrEqual(3 * N);
  });

  it('stays linear on many loops with long tails and deep trees, the worst cases for per-member walks', () => {
    // 1,000 loops of 10, each with a tail of 90 members leading into it; and a comb where every member of a long spine has a leaf delegating to it.
    const delegations = new Map<string, string>();
    for (let g = 0; g < 1000; g++) {
      const base = g * 100;
      for (let k = 0; k < 10; k++) delegations.set(`m${base + k}`, `m${base + ((k + 1) % 10)}`);
      for (let k = 10; k < 100; k++) delegations.set(`m${base + k}`, `m${base + k - 1}`);
    }
    const stats = { steps: 0 };
    expect(resolveVotes(ids, new Map(), delegations, stats).size).toBe(0);
    expect(stats.steps).toBeLessThanOrEqual(3 * N);
  });

  it('gives exactly what walking each chain gives, on random graphs with loops, overrides and blocks', () => {
    const n = 12;
    const member = fc.integer({ min: 0, max: n - 1 }).map((i) => `m${i}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(member, member), { maxLength: 20 }),
        fc.array(fc.tuple(member, fc.constantFrom<Choice>('yes', 'no', 'abstain', 'block', 'objection')), { maxLength: 8 }),
        (edges, ballots) => {
          const eligible = Array.from({ length: n }, (_, i) => `m${i}`);
          const delegations = new Map(edges.filter(([a, b]) => a !== b));
          const direct = new Map(ballots.map(([m, choice]) => [m, { choice }]));
          const fast = [...resolveVotes(eligible, direct, delegations)].map(([m, v]) => [m, { choice: v.choice, castBy: v.castBy }] as const);
          expect(new Map(fast)).toEqual(walkEach(eligible, direct, delegations));
        },
      ),
    );
  });
});

describe('decimal weights', () => {
  it('parses and prints four places exactly, refusing anything else', () => {
    expect(parseWeight('1')).toBe(10_000n);
    expect(parseWeight('0.3333')).toBe(3_333n);
    expect(parseWeight('2.5')).toBe(25_000n);
    expect(formatWeight(25_000n)).toBe('2.5');
    expect(formatWeight(30_000n)).toBe('3');
    expect(formatWeight(1n)).toBe('0.0001');
    for (const bad of ['1.23456', '-1', '1e3', '', '.5', '01', '100000001']) expect(() => parseWeight(bad)).toThrow(RangeError);
  });

  it('counts thresholds exactly: three votes of 0.3333 against one of 0.9999 is exactly half, and half is not a majority', () => {
    const weights = new Map([['a', 3_333n], ['b', 3_333n], ['c', 3_333n], ['d', 9_999n]]);
    const direct = new Map<string, Vote>([['a', { choice: 'yes' }], ['b', { choice: 'yes' }], ['c', { choice: 'yes' }], ['d', { choice: 'no' }]]);
    const result = tally(DEFAULT_GOVERNANCE, weights, resolveVotes(weights.keys(), direct, new Map()));
    expect(result.totals).toMatchObject({ yes: 9_999n, no: 9_999n, eligible: 19_998n });
    expect(result.outcome).toBe('rejected');
    weights.set('a', 3_334n);
    expect(tally(DEFAULT_GOVERNANCE, weights, resolveVotes(weights.keys(), direct, new Map())).outcome).toBe('approved');
  });

  it('a budget above the threshold is decided by supermajority under the majority model only', () => {
    expect(modelFor('majority', 1_000n, 1_001n)).toBe('supermajority');
    expect(modelFor('majority', 1_000n, 1_000n)).toBe('majority');
    expect(modelFor('majority', null, 10n ** 12n)).toBe('majority');
    expect(modelFor('majority', 1_000n, null)).toBe('majority');
    expect(modelFor('consensus', 1_000n, 5_000n)).toBe('consensus');
  });
});

describe('vote commitment', () => {
  const leaf = (i: number): VoteLeaf => ({ proposalId: 'p', cooperativeId: 'c', memberId: `m${String(i).padStart(5, '0')}`, choice: i % 3 === 0 ? 'no' : 'yes', reason: null, weight: 10_000n });

  it('proves every leaf of trees of every size up to 33, odd levels included, and refuses a changed vote', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      const levels = merkleLevels(sha256, leaves.map((l) => leafHash(sha256, l)));
      const root = merkleRoot(sha256, levels);
      leaves.forEach((l, i) => {
        // The siblings a receipt reads, at the positions it reads them from.
        const proof = proofPositions(n, i).map((p) => ({ side: p.side, hash: levels[p.level]![p.position]!.toString('hex') }));
        expect(verifyProof(sha256, l, proof, root)).toBe(true);
        expect(verifyProof(sha256, { ...l, choice: l.choice === 'yes' ? 'no' : 'yes' }, proof, root)).toBe(false);
        expect(verifyProof(sha256, { ...l, weight: l.weight + 1n }, proof, root)).toBe(false);
      });
    }
  });

  it('knows each level\'s size from the leaf count alone, as the tree is built', () => {
    for (let n = 1; n <= 70; n++) {
      const levels = merkleLevels(sha256, Array.from({ length: n }, (_, i) => leafHash(sha256, leaf(i))));
      expect(levelSizes(n)).toEqual(levels.map((l) => l.length));
    }
  });

  it('writes a leaf as the canonical JSON of the vote', () => {
    for (const reason of [null, 'it "breaks" our \\ rule ✓']) {
      const v: VoteLeaf = { ...leaf(7), reason, weight: 25_000n };
      expect(leafBytes(v).toString('utf8')).toBe(canonical({ choice: v.choice, cooperativeId: v.cooperativeId, memberId: v.memberId, proposalId: v.proposalId, reason, weight: '2.5' }));
    }
  });

  it('commits to nothing with the hash of nothing', () => {
    expect(merkleRoot(sha256, merkleLevels(sha256, []))).toBe(createHash('sha256').digest('hex'));
  });
});
