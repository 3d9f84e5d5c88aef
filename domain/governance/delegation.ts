/** A member's own vote. Objections carry their reason (sociocratic consent). */
export const VOTE_CHOICES = ['yes', 'no', 'abstain', 'block', 'objection'] as const;
export type Choice = (typeof VOTE_CHOICES)[number];

export interface Vote {
  choice: Choice;
  reason?: string;
}

export interface EffectiveVote extends Vote {
  /** The member whose direct vote this is (themselves, or the end of their delegation chain). */
  castBy: string;
  delegated: boolean;
}

/** Counts the work of a resolution: each member is stepped through at most once (see resolveVotes). */
export interface ResolutionStats {
  steps: number;
}

/**
 * Resolves who votes what over a public delegation graph (member → delegate). A direct vote always
 * overrides delegation. Otherwise the chain is followed to the first member who voted directly, whose
 * choice the delegator follows; a block or an objection is personal, so a delegator following one
 * counts as `no`. A chain that loops, or ends at someone who neither voted nor delegated, casts nothing.
 *
 * Linear in members + delegations: each walk stops at the first member already resolved, and every
 * member it passed takes that answer, so no member is stepped through twice and a loop is found once,
 * by the walk that closes it. (Walking each chain separately is quadratic: a chain of 40,000 took 94 s.)
 */
export function resolveVotes(
  eligible: Iterable<string>,
  direct: ReadonlyMap<string, Vote>,
  delegations: ReadonlyMap<string, string>,
  stats: ResolutionStats = { steps: 0 },
): Map<string, EffectiveVote> {
  // For a member without a direct vote: the direct voter their chain ends at, or null for none.
  const target = new Map<string, string | null>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const resolve = (start: string): string | null => {
    let found: string | null = null;
    for (let member: string | undefined = start; ; ) {
      stats.steps++;
      if (direct.has(member)) {
        found = member;
        break;
      }
      const known = target.get(member);
      if (known !== undefined) {
        found = known;
        break;
      }
      // Back on this walk's own path: a loop without a direct voter in it.
      if (onPath.has(member)) break;
      path.push(member);
      onPath.add(member);
      member = delegations.get(member);
      if (member === undefined) break;
    }
    for (const member of path) target.set(member, found);
    path.length = 0;
    onPath.clear();
    return found;
  };

  const effective = new Map<string, EffectiveVote>();
  for (const member of eligible) {
    const own = direct.get(member);
    if (own) {
      stats.steps++;
      effective.set(member, { ...own, castBy: member, delegated: false });
      continue;
    }
    const castBy = resolve(member);
    if (castBy === null) continue;
    const choice = direct.get(castBy)!.choice;
    effective.set(member, { choice: choice === 'block' || choice === 'objection' ? 'no' : choice, castBy, delegated: true });
  }
  return effective;
}
