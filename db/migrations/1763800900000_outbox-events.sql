-- Up Migration
-- The outbox becomes the published event stream: a stable id per event for receivers to deduplicate,
-- a closed list of event types (domain/events.ts), and the writing transaction's id so readers can
-- take events in transaction order without skipping one that commits late (db/outbox.ts).
ALTER TABLE outbox
  ADD COLUMN event_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
    'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
    'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
    'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert'));

DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (xid, id) WHERE published_at IS NULL;
CREATE INDEX outbox_by_cooperative ON outbox (cooperative_id, xid, id);

-- The relay publishes across cooperatives; a cooperative reads its own events (tenant policy).
CREATE POLICY network ON outbox USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT UPDATE (published_at) ON outbox TO coop_app;

-- Down Migration
REVOKE UPDATE (published_at) ON outbox FROM coop_app;
DROP POLICY network ON outbox;
DROP INDEX outbox_by_cooperative;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check, DROP COLUMN xid, DROP COLUMN event_id;
