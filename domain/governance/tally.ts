import type { EffectiveVote } from './delegation';
import type { ProposalOutcome } from './proposal';
import { meets, type GovernanceSettings } from './settings';

export interface TallyTotals {
  eligible: bigint;
  participating: bigint;
  yes: bigint;
  no: bigint;
  abstain: bigint;
  block: bigint;
  objection: bigint;
  /** Members (not weight) who voted no or blocked: consensus-minus-one counts dissenters. */
  dissenters: number;
  /** Objections with a stated reason: each stands against consent. */
  reasonedObjections: number;
}

export interface TallyResult {
  outcome: ProposalOutcome;
  reason: string;
  quorumMet: boolean;
  totals: TallyTotals;
}

/**
 * Tallies a proposal by the cooperative's model. Weights are whole numbers per eligible member
 * (default 1). Majority and supermajority count yes against yes+no (abstentions count toward quorum
 * only); consensus needs no no and no block; consensus-minus-one tolerates one dissenting member;
 * sociocratic consent passes unless a reasoned objection stands. Every model needs its quorum.
 */
export function tally(settings: GovernanceSettings, weights: ReadonlyMap<string, number>, votes: ReadonlyMap<string, EffectiveVote>): TallyResult {
  const totals: TallyTotals = { eligible: 0n, participating: 0n, yes: 0n, no: 0n, abstain: 0n, block: 0n, objection: 0n, dissenters: 0, reasonedObjections: 0 };
  for (const [member, weight] of weights) {
    if (!Number.isSafeInteger(weight) || weight < 0) throw new RangeError(`weight of ${member} must be a whole number`);
    const w = BigInt(weight);
    totals.eligible += w;
    const vote = votes.get(member);
    if (!vote) continue;
    totals.participating += w;
    totals[vote.choice] += w;
    if (vote.choice === 'no' || vote.choice === 'block') totals.dissenters += 1;
    if (vote.choice === 'objection' && vote.reason && vote.reason.trim().length > 0) totals.reasonedObjections += 1;
  }
  const quorumMet = meets(totals.participating, totals.eligible, settings.quorum);
  const decided = (approved: boolean, reason: string): TallyResult => ({ outcome: approved && quorumMet ? 'approved' : 'rejected', reason: quorumMet ? reason : 'quorum not met', quorumMet, totals });
  const cast = totals.yes + totals.no;
  switch (settings.model) {
    case 'majority':
      return decided(meets(totals.yes, cast, settings.majority), `yes ${totals.yes} of ${cast} against majority ${settings.majority.comparison} ${settings.majority.basisPoints} bp`);
    case 'supermajority':
      return decided(meets(totals.yes, cast, settings.supermajority), `yes ${totals.yes} of ${cast} against supermajority ${settings.supermajority.comparison} ${settings.supermajority.basisPoints} bp`);
    case 'consensus':
      return decided(totals.yes > 0n && totals.no === 0n && totals.block === 0n, totals.block > 0n ? 'blocked' : totals.no > 0n ? 'not unanimous' : 'consensus');
    case 'consensus_minus_one':
      return decided(totals.yes > 0n && totals.dissenters <= 1, `${totals.dissenters} dissenting member(s), at most 1 allowed`);
    case 'sociocratic_consent':
      return decided(totals.reasonedObjections === 0, totals.reasonedObjections > 0 ? `${totals.reasonedObjections} reasoned objection(s) stand` : 'no reasoned objection');
  }
}
