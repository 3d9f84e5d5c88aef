import type { EffectiveVote, Vote } from './delegation';
import type { ProposalOutcome } from './proposal';
import { meets, type GovernanceSettings } from './settings';
import { formatWeight } from './weights';

/** Weights in 1/10000 units (domain/governance/weights.ts), summed exactly. */
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

export const emptyTotals = (): TallyTotals => ({ eligible: 0n, participating: 0n, yes: 0n, no: 0n, abstain: 0n, block: 0n, objection: 0n, dissenters: 0, reasonedObjections: 0 });

/** Adds one eligible member (weight in 1/10000 units) and the vote that counts for them, if any. */
export function count(totals: TallyTotals, weight: bigint, vote: Vote | undefined): void {
  if (weight < 0n) throw new RangeError('a weight cannot be negative');
  totals.eligible += weight;
  if (!vote) return;
  totals.participating += weight;
  totals[vote.choice] += weight;
  if (vote.choice === 'no' || vote.choice === 'block') totals.dissenters += 1;
  if (vote.choice === 'objection' && vote.reason && vote.reason.trim().length > 0) totals.reasonedObjections += 1;
}

/**
 * Decides by the cooperative's model over the totals. Majority and supermajority count yes against
 * yes+no (abstentions count toward quorum only); consensus needs no no and no block;
 * consensus-minus-one tolerates one dissenting member; sociocratic consent passes unless a reasoned
 * objection stands. Every model needs its quorum. All comparisons are exact integer arithmetic.
 */
export function decide(settings: GovernanceSettings, totals: TallyTotals): TallyResult {
  const quorumMet = meets(totals.participating, totals.eligible, settings.quorum);
  const decided = (approved: boolean, reason: string): TallyResult => ({ outcome: approved && quorumMet ? 'approved' : 'rejected', reason: quorumMet ? reason : 'quorum not met', quorumMet, totals });
  const cast = totals.yes + totals.no;
  const share = (threshold: 'majority' | 'supermajority') =>
    `yes ${formatWeight(totals.yes)} of ${formatWeight(cast)} against ${threshold} ${settings[threshold].comparison} ${settings[threshold].basisPoints} bp`;
  switch (settings.model) {
    case 'majority':
      return decided(meets(totals.yes, cast, settings.majority), share('majority'));
    case 'supermajority':
      return decided(meets(totals.yes, cast, settings.supermajority), share('supermajority'));
    case 'consensus':
      return decided(totals.yes > 0n && totals.no === 0n && totals.block === 0n, totals.block > 0n ? 'blocked' : totals.no > 0n ? 'not unanimous' : 'consensus');
    case 'consensus_minus_one':
      return decided(totals.yes > 0n && totals.dissenters <= 1, `${totals.dissenters} dissenting member(s), at most 1 allowed`);
    case 'sociocratic_consent':
      return decided(totals.reasonedObjections === 0, totals.reasonedObjections > 0 ? `${totals.reasonedObjections} reasoned objection(s) stand` : 'no reasoned objection');
  }
}

/** Tallies a proposal: each eligible member's weight (1/10000 units) with the vote that counts for them. */
export function tally(settings: GovernanceSettings, weights: ReadonlyMap<string, bigint>, votes: ReadonlyMap<string, EffectiveVote>): TallyResult {
  const totals = emptyTotals();
  for (const [member, weight] of weights) count(totals, weight, votes.get(member));
  return decide(settings, totals);
}
