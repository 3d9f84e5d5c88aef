import type { RuleStatus } from './revenue-rule';

/**
 * One named share of a revenue rule, in basis points of the whole (validateShares in ./revenue-rule):
 * paid to a member, or to the stakers, split over their positions (domain/staking-shares.ts).
 */
export type RuleShare = { name: string; basisPoints: number } & ({ memberId: string; stakers?: undefined } | { stakers: true; memberId?: undefined });

/** One audited step of a rule's lifecycle. */
export interface RuleHistoryEntry {
  action: string;
  from: string;
  to: string;
  actor: string | null;
  reason: string | null;
  at: string;
}

/** A revenue rule as stored: its version within the cooperative, shares, lifecycle status and audit trail. */
export interface RevenueRule {
  id: string;
  cooperativeId: string;
  version: number;
  name: string;
  shares: RuleShare[];
  status: RuleStatus;
  proposer: string;
  approver: string | null;
  cooldownEndsAt: string | null;
  activatedAt: string | null;
  history: RuleHistoryEntry[];
}
