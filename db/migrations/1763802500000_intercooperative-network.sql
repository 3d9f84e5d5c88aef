-- Up Migration
-- The intercooperative network (decision 0022): the economic event store, shared resources and their
-- bookings, and settlement between cooperatives' ledgers through clearing accounts per counterparty.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Economic events: append-only, network-wide (an event may concern several cooperatives).
CREATE TABLE economic_events (
  id              uuid PRIMARY KEY,
  sequence        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  type            text NOT NULL CHECK (type IN (
                    'resource_exchange_proposed', 'resource_exchange_approved', 'resource_exchange_executed', 'labor_contribution_recorded',
                    'mutual_aid_requested', 'mutual_aid_fulfilled', 'infrastructure_investment_proposed', 'infrastructure_investment_approved',
                    'proposal_created', 'vote_cast', 'consensus_reached', 'proposal_rejected')),
  cooperative_id  uuid NOT NULL REFERENCES cooperatives (id),
  cooperatives    uuid[] NOT NULL CHECK (cardinality(cooperatives) > 0),
  aggregate_id    text NOT NULL CHECK (length(aggregate_id) BETWEEN 1 AND 200),
  -- Smallest units (µCLOUD or µUSD); the sign rules per type live in domain/network/economic-events.ts.
  amount          bigint CHECK (amount <> 0),
  currency        text CHECK (currency IN ('CLOUD', 'USD')),
  payload         jsonb NOT NULL DEFAULT '{}',
  -- The approved proposal whose signed record was verified when the event was accepted, with its digest.
  proof           jsonb,
  recorded_by     text NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 1024),
  request_hash    text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  CHECK ((amount IS NULL) = (currency IS NULL)),
  CHECK (cooperative_id = ANY (cooperatives))
);
CREATE INDEX economic_events_type ON economic_events (type, sequence);
CREATE INDEX economic_events_aggregate ON economic_events (aggregate_id, sequence);
CREATE INDEX economic_events_cooperatives ON economic_events USING gin (cooperatives);
-- One decision proves one event of each type: an approval cannot be replayed for a second exchange.
CREATE UNIQUE INDEX economic_events_one_per_proof ON economic_events (type, (proof->>'proposalId')) WHERE proof IS NOT NULL;
CREATE TRIGGER economic_events_append_only BEFORE UPDATE OR DELETE ON economic_events FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER economic_events_no_truncate BEFORE TRUNCATE ON economic_events FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Every economic event reaches the outbox of every cooperative it concerns, in its own transaction.
CREATE FUNCTION economic_event_to_outbox() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
  SELECT c, 'economic_event.recorded', NEW.aggregate_id,
         jsonb_build_object('eventId', NEW.id, 'type', NEW.type, 'cooperativeId', NEW.cooperative_id, 'cooperatives', to_jsonb(NEW.cooperatives),
                            'amount', NEW.amount::text, 'currency', NEW.currency, 'proof', NEW.proof)
    FROM unnest(NEW.cooperatives) AS c;
  RETURN NULL;
END $$;
CREATE TRIGGER economic_events_outbox AFTER INSERT ON economic_events FOR EACH ROW EXECUTE FUNCTION economic_event_to_outbox();

-- Governance events are written by the database as proposals open and close, whoever writes the proposal.
CREATE FUNCTION proposal_governance_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  kind text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    kind := 'proposal_created';
  ELSIF OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('approved', 'rejected') THEN
    kind := CASE NEW.status WHEN 'approved' THEN 'consensus_reached' ELSE 'proposal_rejected' END;
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO economic_events (id, type, cooperative_id, cooperatives, aggregate_id, payload, recorded_by, idempotency_key, request_hash)
  VALUES (gen_random_uuid(), kind, NEW.origin_cooperative_id, NEW.stakeholders, NEW.id::text,
          jsonb_build_object('proposalId', NEW.id, 'title', NEW.title, 'status', NEW.status, 'proposer', NEW.proposer),
          'system', 'governance:' || NEW.id || ':' || kind, 'governance')
  ON CONFLICT (cooperative_id, idempotency_key) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER proposals_governance_events AFTER INSERT OR UPDATE OF status ON proposals FOR EACH ROW EXECUTE FUNCTION proposal_governance_event();

ALTER TABLE economic_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON economic_events USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY concerned ON economic_events FOR SELECT USING (app_cooperative_id() = ANY (cooperatives));
GRANT SELECT, INSERT ON economic_events TO coop_app;

-- Shared resources: discoverable network-wide, written by their owner cooperative.
CREATE TABLE resources (
  id              uuid PRIMARY KEY,
  cooperative_id  uuid NOT NULL REFERENCES cooperatives (id),
  type            text NOT NULL CHECK (type IN ('compute', 'storage', 'space', 'equipment', 'vehicle', 'skill', 'other')),
  title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description     text NOT NULL CHECK (length(description) <= 5000),
  location        text NOT NULL CHECK (length(location) BETWEEN 1 AND 200),
  -- The weekly availability schedule: minutes of the week in UTC (Monday 00:00 = 0), half-open.
  availability    int4multirange NOT NULL CHECK (availability <@ int4multirange(int4range(0, 10080))),
  schedule        jsonb NOT NULL,
  access_model    text NOT NULL CHECK (access_model IN ('open', 'approval')),
  cost_model      text NOT NULL CHECK (cost_model IN ('free', 'flat', 'per_hour')),
  cost_amount     bigint NOT NULL CHECK (cost_amount >= 0),
  search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description || ' ' || location)) STORED,
  created_by      text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  CHECK ((cost_model = 'free') = (cost_amount = 0))
);
CREATE INDEX resources_search ON resources USING gin (search);
CREATE INDEX resources_type_location ON resources (type, lower(location));
CREATE INDEX resources_location ON resources (lower(location));
CREATE INDEX resources_availability ON resources USING gist (availability);
CREATE INDEX resources_created ON resources (created_at DESC, id DESC);

-- Bookings: a slot held while pending and once confirmed; the database refuses overlapping ones.
CREATE TABLE bookings (
  id                       uuid PRIMARY KEY,
  resource_id              uuid NOT NULL REFERENCES resources (id),
  owner_cooperative_id     uuid NOT NULL REFERENCES cooperatives (id),
  requester_cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  requester_member_id      uuid NOT NULL,
  period                   tstzrange NOT NULL CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)),
  status                   text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'failed')),
  cost                     bigint NOT NULL CHECK (cost >= 0),
  proposal_id              uuid REFERENCES proposals (id),
  settlement               jsonb,
  reason                   text,
  idempotency_key          text NOT NULL,
  request_hash             text NOT NULL,
  created_at               timestamptz NOT NULL DEFAULT now(),
  decided_at               timestamptz,
  UNIQUE (requester_cooperative_id, idempotency_key),
  FOREIGN KEY (requester_member_id, requester_cooperative_id) REFERENCES members (id, cooperative_id),
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (resource_id WITH =, period WITH &&) WHERE (status IN ('pending', 'confirmed')),
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX bookings_resource ON bookings (resource_id, created_at DESC);
CREATE INDEX bookings_proposal ON bookings (proposal_id) WHERE proposal_id IS NOT NULL;

ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON resources USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY network ON bookings USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT SELECT, INSERT ON resources, bookings TO coop_app;
GRANT UPDATE (status, settlement, reason, decided_at, proposal_id) ON bookings TO coop_app;

-- Settlement: a clearing account per counterparty cooperative, and what the receiving side earns.
ALTER TABLE accounts ADD COLUMN counterparty_cooperative_id uuid REFERENCES cooperatives (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_counterparty_is_other CHECK (counterparty_cooperative_id <> cooperative_id);
DROP INDEX accounts_cooperative_code;
CREATE UNIQUE INDEX accounts_cooperative_code ON accounts (cooperative_id, code) WHERE member_id IS NULL AND counterparty_cooperative_id IS NULL;
CREATE UNIQUE INDEX accounts_clearing ON accounts (cooperative_id, code, counterparty_cooperative_id) WHERE counterparty_cooperative_id IS NOT NULL;

INSERT INTO accounts (id, cooperative_id, code, name, currency, type, owner_type, allow_negative, balance_shards)
SELECT gen_random_uuid(), c.id, '4700', 'Intercooperative Exchange Income (CLOUD)', 'CLOUD', 'revenue', 'system', true, 1 FROM cooperatives c
ON CONFLICT DO NOTHING;

ALTER TABLE transactions DROP CONSTRAINT transactions_type_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_type_check CHECK (type IN ('mint', 'transfer', 'redemption', 'burn', 'stake', 'unstake', 'correction',
  'refund_clawback', 'revenue_distribution', 'lot_expiry', 'stream_sample', 'settlement'));

-- What every exchange left in clearing, network-wide: both sides' entries of one exchange net to zero.
-- Read by the integrity check as the owner, since no cooperative may read another's entries.
CREATE FUNCTION clearing_imbalances(as_of timestamptz) RETURNS TABLE (cooperative_id uuid, exchange_id text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  -- A compensation is a correction: it belongs to the exchange of the transaction it reverses.
  WITH clearing AS (
    SELECT t.cooperative_id, t.created_at, e.amount, COALESCE(t.metadata->>'exchangeId', o.metadata->>'exchangeId') AS exchange_id
      FROM entries e
      JOIN accounts a ON a.id = e.account_id AND a.counterparty_cooperative_id IS NOT NULL
      JOIN transactions t ON t.id = e.transaction_id
      LEFT JOIN transactions o ON o.id = t.reverses_transaction_id
  )
  SELECT min(c.cooperative_id::text)::uuid, c.exchange_id, format('clearing entries of exchange %s net to %s', c.exchange_id, sum(c.amount))
    FROM clearing c
   GROUP BY c.exchange_id
  HAVING sum(c.amount) <> 0 AND max(c.created_at) < as_of - interval '5 minutes'
$$;
REVOKE ALL ON FUNCTION clearing_imbalances(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clearing_imbalances(timestamptz) TO coop_app;

ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired',
  'stream.sampled', 'stream.price_unavailable', 'period.closed', 'cloud.settled', 'economic_event.recorded', 'booking.updated'));

-- Down Migration
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired',
  'stream.sampled', 'stream.price_unavailable', 'period.closed'));
DROP FUNCTION clearing_imbalances(timestamptz);
ALTER TABLE transactions DROP CONSTRAINT transactions_type_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_type_check CHECK (type IN ('mint', 'transfer', 'redemption', 'burn', 'stake', 'unstake', 'correction',
  'refund_clawback', 'revenue_distribution', 'lot_expiry', 'stream_sample'));
DROP INDEX accounts_clearing;
DROP INDEX accounts_cooperative_code;
CREATE UNIQUE INDEX accounts_cooperative_code ON accounts (cooperative_id, code) WHERE member_id IS NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_counterparty_is_other;
ALTER TABLE accounts DROP COLUMN counterparty_cooperative_id;
DROP TABLE bookings, resources;
DROP TRIGGER proposals_governance_events ON proposals;
DROP FUNCTION proposal_governance_event();
DROP TABLE economic_events;
DROP FUNCTION economic_event_to_outbox();
