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

/**
 * Resolves who votes what over a public delegation graph (member → delegate). A direct vote always
 * overrides delegation. Otherwise the chain is followed to the first member who voted directly, whose
 * choice the delegator follows; a block or an objection is personal, so a delegator following one
 * counts as `no`. A chain that loops, or ends at someone who neither voted nor delegated, casts nothing.
 */
export function resolveVotes(eligible: Iterable<string>, direct: ReadonlyMap<string, Vote>, delegations: ReadonlyMap<string, string>): Map<string, EffectiveVote> {
  const effective = new Map<string, EffectiveVote>();
  for (const member of eligible) {
    const own = direct.get(member);
    if (own) {
      effective.set(member, { ...own, castBy: member, delegated: false });
      continue;
    }
    const visited = new Set<string>([member]);
    for (let next = delegations.get(member); next !== undefined && !visited.has(next); next = delegations.get(next)) {
      visited.add(next);
      const vote = direct.get(next);
      if (vote) {
        const choice = vote.choice === 'block' || vote.choice === 'objection' ? 'no' : vote.choice;
        effective.set(member, { choice, castBy: next, delegated: true });
        break;
      }
    }
  }
  return effective;
}
