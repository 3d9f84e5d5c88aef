-- Up Migration
-- Outbound webhooks (decision 0015): endpoints a cooperative registers, their signing secrets (sealed
-- with the application's key, db/secret-box.ts), and one delivery per (endpoint, event) that the
-- relay writes when it publishes the outbox.
CREATE TABLE webhook_endpoints (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  url            text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- Names from domain/events.ts, or '*' for all; the API checks them against that list, and the
  -- outbox's own CHECK holds the events themselves, so a second copy of the list is not kept here.
  event_types    text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 64),
  description    text CHECK (length(description) <= 500),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, id)
);
CREATE INDEX webhook_endpoints_by_cooperative ON webhook_endpoints (cooperative_id, created_at, id);

-- Each secret is a row: the newest (expires_at NULL) signs, and a rotated one keeps signing beside it
-- until it expires. The create or rotate request that made a secret holds its idempotency key, so a
-- replay of that request shows the same secret again.
CREATE TABLE webhook_endpoint_secrets (
  id              uuid PRIMARY KEY,
  cooperative_id  uuid NOT NULL,
  endpoint_id     uuid NOT NULL,
  sealed          text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 1024),
  request_hash    text NOT NULL,
  UNIQUE (cooperative_id, idempotency_key),
  FOREIGN KEY (cooperative_id, endpoint_id) REFERENCES webhook_endpoints (cooperative_id, id)
);
CREATE UNIQUE INDEX webhook_endpoint_current_secret ON webhook_endpoint_secrets (endpoint_id) WHERE expires_at IS NULL;

CREATE TABLE webhook_deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cooperative_id  uuid NOT NULL,
  endpoint_id     uuid NOT NULL,
  -- Event retention (db/retention.ts) deletes an event only once every delivery of it is delivered.
  outbox_id       bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead_lettered')),
  -- Every POST counts, dead-letter retries included: the Coop-Delivery-Attempt header.
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error      text,
  last_attempt_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
  UNIQUE (endpoint_id, outbox_id),
  FOREIGN KEY (cooperative_id, endpoint_id) REFERENCES webhook_endpoints (cooperative_id, id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, created_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_undelivered_event ON webhook_deliveries (outbox_id) WHERE status <> 'delivered';

-- The relay LISTENs on this channel. A statement trigger: one notification per writing statement,
-- delivered when (and only if) its transaction commits.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- A cooperative manages its own endpoints; the relay (network scope) fans events out to every cooperative's.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_endpoint_secrets', 'webhook_deliveries'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id())', t);
    EXECUTE format('CREATE POLICY network ON %I USING (app_network_scope()) WITH CHECK (app_network_scope())', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT ON webhook_endpoints, webhook_endpoint_secrets, webhook_deliveries TO coop_app;
GRANT UPDATE (status, updated_at) ON webhook_endpoints TO coop_app;
GRANT UPDATE (expires_at) ON webhook_endpoint_secrets TO coop_app;
GRANT UPDATE (status, attempts, last_error, last_attempt_at, delivered_at) ON webhook_deliveries TO coop_app;

-- Down Migration
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION notify_outbox();
DROP TABLE webhook_deliveries, webhook_endpoint_secrets, webhook_endpoints;
