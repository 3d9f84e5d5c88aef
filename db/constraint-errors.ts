import { BusinessError, type BusinessErrorCode } from '../domain/errors';

/**
 * The database's own guards, as business errors: reached when a rule checked in code was raced or
 * bypassed, and the constraint refused the write. The one map from constraint names to error codes;
 * a test checks that every name here exists in the schema.
 */
export const CONSTRAINT_ERRORS: Readonly<Record<string, { code: BusinessErrorCode; message: string }>> = {
  balance_not_negative: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient credits' },
  lots_available_check: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient credits' },
  lots_reserved_check: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient credits' },
  lot_parts_sum_to_original: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient credits' },
  lots_cooperative_id_source_source_id_key: { code: 'CONFLICT', message: 'Credits from this source were already issued' },
  staking_positions_pkey: { code: 'CONFLICT', message: 'This staking position already exists' },
  transactions_reverses_transaction_id_key: { code: 'CONFLICT', message: 'This transaction was already corrected' },
  rate_cards_cooperative_id_version_key: { code: 'CONFLICT', message: 'A rate card with this version already exists' },
  rate_cards_cooperative_id_effective_from_key: { code: 'CONFLICT', message: 'A rate card taking effect at this time already exists' },
  members_ens_name_key: { code: 'CONFLICT', message: 'This ENS name belongs to another member' },
  // Network-wide callers (operators) can name a cooperative that does not exist.
  members_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  accounts_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  rate_cards_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  members_cooperative_id_address_key: { code: 'CONFLICT', message: 'A member with this address already exists' },
  delegations_delegate_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'The delegate is not a member of this cooperative' },
  delegations_check: { code: 'VALIDATION_ERROR', message: 'A member cannot delegate to themselves' },
  delegations_delegator_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'The delegator is not a member of this cooperative' },
  revenue_rules_one_active: { code: 'CONFLICT', message: 'The cooperative already has an active revenue rule' },
  staking_terms_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  staking_position_locked: { code: 'CONFLICT', message: 'The staking position is still locked' },
  staking_position_early_exit: { code: 'CONFLICT', message: "The staking position's term allows no early exit" },
  campaigns_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  campaign_within_budget: { code: 'INSUFFICIENT_FUNDS', message: "The batch exceeds the campaign's budget; nothing was granted" },
  campaign_grants_pkey: { code: 'CONFLICT', message: 'The campaign already granted to this member' },
  corrections_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  correction_four_eyes: { code: 'FORBIDDEN', message: 'A correction above the threshold needs a second operator' },
  corrections_one_per_transaction: { code: 'CONFLICT', message: 'This transaction already has a correction proposed or applied' },
  streams_active_flow: { code: 'CONFLICT', message: 'This flow is already registered as an active stream of the cooperative' },
  holds_member_active: { code: 'CONFLICT', message: 'The member is deactivated' },
  identity_providers_issuer_audience_key: { code: 'CONFLICT', message: 'Another cooperative has registered this issuer for this audience' },
  identity_providers_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  streams_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
  bookings_no_overlap: { code: 'CONFLICT', message: 'The resource is already booked for part of this time' },
  bookings_requester_member_id_requester_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'The requester is not a member of this cooperative' },
  economic_events_one_per_proof: { code: 'CONFLICT', message: 'This decision already proved an event of this type' },
  economic_events_cooperative_id_fkey: { code: 'NOT_FOUND', message: 'Cooperative not found' },
};

/** The business error a database error stands for, or the error itself when it is not a known guard. */
export function fromConstraint(err: unknown): unknown {
  const known = CONSTRAINT_ERRORS[(err as { constraint?: string } | undefined)?.constraint ?? ''];
  return known ? new BusinessError(known.code, known.message) : err;
}
