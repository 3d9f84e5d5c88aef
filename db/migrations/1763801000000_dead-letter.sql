-- Up Migration
-- The dead-letter queue: operations that failed beyond their normal retries, each retried by its
-- dlq:<id> workflow and then waiting for an operator (domain/dead-letter.ts holds the lists).
CREATE TABLE dead_letter_items (
  id              uuid PRIMARY KEY,
  operation_type  text NOT NULL CHECK (operation_type IN ('mint_credits', 'refund_clawback', 'webhook_delivery')),
  -- Handing the same operation over twice yields the same item.
  business_key    text NOT NULL CHECK (length(business_key) BETWEEN 1 AND 1024),
  -- Null for operations of the network rather than of one cooperative.
  cooperative_id  uuid REFERENCES cooperatives (id),
  payload         jsonb NOT NULL,
  last_error      text NOT NULL,
  -- Handler runs since the handover, automatic and by operators.
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  status          text NOT NULL DEFAULT 'retrying' CHECK (status IN ('retrying', 'manual_review', 'succeeded', 'resolved', 'discarded')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (operation_type, business_key)
);
-- Operators list newest first, by status, type or cooperative.
CREATE INDEX dead_letter_items_listing ON dead_letter_items (created_at DESC, id DESC);
CREATE INDEX dead_letter_items_by_status ON dead_letter_items (status, created_at DESC, id DESC);
CREATE INDEX dead_letter_items_by_cooperative ON dead_letter_items (cooperative_id, created_at DESC, id DESC);

-- What happened to an item after its handover: automatic retries and operators' actions, who and when.
CREATE TABLE dead_letter_actions (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id         uuid NOT NULL REFERENCES dead_letter_items (id),
  -- The item's, repeated so the tenant policy needs no join.
  cooperative_id  uuid,
  -- The workflow's key for the step (its run and a counter): a retried activity records it once.
  step_key        text NOT NULL,
  action          text NOT NULL CHECK (action IN ('automatic_retry', 'retry', 'resolve', 'discard')),
  actor           text,
  note            text,
  from_status     text NOT NULL CHECK (from_status IN ('retrying', 'manual_review', 'succeeded', 'resolved', 'discarded')),
  to_status       text NOT NULL CHECK (to_status IN ('retrying', 'manual_review', 'succeeded', 'resolved', 'discarded')),
  error           text,
  at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (item_id, step_key),
  -- Operators' actions name who took them; resolve and discard say why.
  CHECK ((action = 'automatic_retry') = (actor IS NULL)),
  CHECK (note IS NOT NULL OR action = 'automatic_retry' OR action = 'retry')
);

-- Written by the worker and read by network-wide operators in the network scope; an operator bound to
-- a cooperative reads that cooperative's items in its scope, and never a network-level item.
ALTER TABLE dead_letter_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_letter_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON dead_letter_items USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY network ON dead_letter_actions USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY tenant ON dead_letter_items FOR SELECT USING (cooperative_id = app_cooperative_id());
CREATE POLICY tenant ON dead_letter_actions FOR SELECT USING (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON dead_letter_items, dead_letter_actions TO coop_app;
GRANT UPDATE (status, attempts, last_error, updated_at) ON dead_letter_items TO coop_app;

-- A purchase whose mint failed beyond its retries waits for its dead-letter item (decision 0014).
ALTER TABLE credit_purchases DROP CONSTRAINT credit_purchases_status_check,
  ADD CONSTRAINT credit_purchases_status_check CHECK (status IN ('creating_payment', 'awaiting_payment', 'minted', 'mint_failed', 'expired', 'refunded'));

-- Down Migration
ALTER TABLE credit_purchases DROP CONSTRAINT credit_purchases_status_check,
  ADD CONSTRAINT credit_purchases_status_check CHECK (status IN ('creating_payment', 'awaiting_payment', 'minted', 'expired', 'refunded'));
DROP TABLE dead_letter_actions, dead_letter_items;
