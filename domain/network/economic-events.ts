/**
 * The economic event store's closed list of types (the InterCooperative Network spec's, plus the
 * governance events the database writes itself as proposals open and close, and the API as votes are
 * cast; clients record only the others). The database holds economic_events.type to this list.
 */
export const ECONOMIC_EVENT_TYPES = [
  'resource_exchange_proposed',
  'resource_exchange_approved',
  'resource_exchange_executed',
  'labor_contribution_recorded',
  'mutual_aid_requested',
  'mutual_aid_fulfilled',
  'infrastructure_investment_proposed',
  'infrastructure_investment_approved',
  'proposal_created',
  'vote_cast',
  'consensus_reached',
  'proposal_rejected',
] as const;
export type EconomicEventType = (typeof ECONOMIC_EVENT_TYPES)[number];

/** Written by the system as governance happens; clients record the others. */
export const GOVERNANCE_EVENT_TYPES = ['proposal_created', 'vote_cast', 'consensus_reached', 'proposal_rejected'] as const satisfies readonly EconomicEventType[];

interface TypeRule {
  /** A decision or its execution: between cooperatives it needs every affected cooperative's signed approval. */
  decided: boolean;
  /** Whether the amount may be negative (a labour record corrects an earlier one by a negative amount). */
  negativeAllowed: boolean;
  /** Whether the type carries an amount at all. */
  amount: 'required' | 'optional' | 'none';
}

export const EVENT_TYPE_RULES: Record<EconomicEventType, TypeRule> = {
  resource_exchange_proposed: { decided: false, negativeAllowed: false, amount: 'optional' },
  resource_exchange_approved: { decided: true, negativeAllowed: false, amount: 'optional' },
  resource_exchange_executed: { decided: true, negativeAllowed: false, amount: 'optional' },
  labor_contribution_recorded: { decided: false, negativeAllowed: true, amount: 'required' },
  mutual_aid_requested: { decided: false, negativeAllowed: false, amount: 'required' },
  mutual_aid_fulfilled: { decided: true, negativeAllowed: false, amount: 'required' },
  infrastructure_investment_proposed: { decided: false, negativeAllowed: false, amount: 'required' },
  infrastructure_investment_approved: { decided: true, negativeAllowed: false, amount: 'required' },
  proposal_created: { decided: false, negativeAllowed: false, amount: 'none' },
  vote_cast: { decided: false, negativeAllowed: false, amount: 'none' },
  consensus_reached: { decided: false, negativeAllowed: false, amount: 'none' },
  proposal_rejected: { decided: false, negativeAllowed: false, amount: 'none' },
};

/** What an event must carry, or the reason it is refused (amount in µ-units of its currency). */
export function eventProblem(type: EconomicEventType, amount: bigint | null, cooperatives: readonly string[], proof: unknown): string | undefined {
  const rule = EVENT_TYPE_RULES[type];
  if (rule.amount === 'required' && amount === null) return `${type} needs an amount`;
  if (rule.amount === 'none' && amount !== null) return `${type} carries no amount`;
  if (amount !== null && amount < 0n && !rule.negativeAllowed) return `${type} cannot have a negative amount`;
  if (amount === 0n) return 'an amount cannot be zero';
  if (rule.decided && new Set(cooperatives).size > 1 && !proof) return `${type} between cooperatives needs governance proof from every affected cooperative`;
  return undefined;
}

/** An event as stored: append-only, with the proof it was accepted on. */
export interface EconomicEvent {
  id: string;
  sequence: bigint;
  type: EconomicEventType;
  /** The cooperative that recorded it. */
  cooperativeId: string;
  /** Every cooperative the event concerns (the recorder among them). */
  cooperatives: string[];
  aggregateId: string;
  amount: bigint | null;
  currency: 'CLOUD' | 'USD' | null;
  payload: Record<string, unknown>;
  proof: GovernanceProof | null;
  recordedBy: string;
  createdAt: string;
}

/** The proof an intercooperative event carries: the approved proposal, and its record's digest once verified. */
export interface GovernanceProof {
  proposalId: string;
  /** sha256 of the signed record (canonical form), filled in by verification. */
  recordDigest?: string;
}
