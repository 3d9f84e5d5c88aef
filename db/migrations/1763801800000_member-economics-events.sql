-- Up Migration
-- The events of member economics join the list (domain/events.ts): terms set, campaigns created,
-- corrections proposed, rejected or expired (an applied one is cloud.corrected).
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check,
  ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
    'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
    'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
    'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
    'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired'));

-- Down Migration
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check,
  ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
    'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
    'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
    'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert'));
