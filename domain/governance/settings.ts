/** How a cooperative decides. Ratios are basis points (5000 = 0.5) so comparisons are exact integers. */
export const GOVERNANCE_MODELS = ['majority', 'supermajority', 'consensus', 'consensus_minus_one', 'sociocratic_consent'] as const;
export type GovernanceModel = (typeof GOVERNANCE_MODELS)[number];

/** A threshold states whether reaching it is enough (`>=`) or it must be exceeded (`>`). */
export const THRESHOLD_COMPARISONS = ['>', '>='] as const;
export type ThresholdComparison = (typeof THRESHOLD_COMPARISONS)[number];

export interface Threshold {
  basisPoints: number;
  comparison: ThresholdComparison;
}

export interface GovernanceSettings {
  model: GovernanceModel;
  /** Share of eligible weight that must take part (default 0.5, reached with >=). */
  quorum: Threshold;
  /** Share of yes among yes+no for `majority` (default 0.5, exceeded with >). */
  majority: Threshold;
  /** Share of yes among yes+no for `supermajority` (default 0.66, reached with >=). */
  supermajority: Threshold;
  delegationAllowed: boolean;
}

export const DEFAULT_GOVERNANCE: GovernanceSettings = {
  model: 'majority',
  quorum: { basisPoints: 5_000, comparison: '>=' },
  majority: { basisPoints: 5_000, comparison: '>' },
  supermajority: { basisPoints: 6_600, comparison: '>=' },
  delegationAllowed: true,
};

/** part/whole against a threshold, in integers: part × 10000 (>|>=) bps × whole. */
export function meets(part: bigint, whole: bigint, threshold: Threshold): boolean {
  if (whole === 0n) return false;
  const lhs = part * 10_000n;
  const rhs = BigInt(threshold.basisPoints) * whole;
  return threshold.comparison === '>' ? lhs > rhs : lhs >= rhs;
}
