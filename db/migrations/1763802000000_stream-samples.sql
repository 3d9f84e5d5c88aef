-- Up Migration
-- Stream samples: each is one half-open interval [interval_start, interval_end) of one stream, with the
-- wei its flow moved (exact, from the chain's FlowUpdated history), the price that valued it, its µUSD
-- and the ledger transaction that posted it. A stream's samples follow one another without gap or
-- overlap from its registration on: the database holds that, so no interval is booked twice or skipped.
CREATE TABLE stream_samples (
  id                uuid PRIMARY KEY,
  cooperative_id    uuid NOT NULL,
  stream_id         uuid NOT NULL,
  interval_start    timestamptz NOT NULL,
  interval_end      timestamptz NOT NULL,
  amount_wei        numeric(78,0) NOT NULL CHECK (amount_wei >= 0),
  -- Where the books stand after this sample: the rate in force from interval_end on, and a block at
  -- interval_end's boundary (each block up to it is at or before interval_end, each after it at or after).
  end_flow_rate     numeric(78,0) NOT NULL CHECK (end_flow_rate >= 0),
  end_block         bigint NOT NULL CHECK (end_block >= 0),
  -- How it was priced; none when nothing flowed (nothing to price).
  price_source      text CHECK (price_source IN ('chainlink', 'http', 'manual')),
  -- The aggregator's address, the HTTP source and asset, or the manual price's id.
  price_reference   text CHECK (length(price_reference) BETWEEN 1 AND 200),
  price_averaging   text CHECK (price_averaging IN ('spot', 'twap')),
  -- USD per whole token × 10^18 (an average, rounded half up), when the newest observation used was
  -- made, and how old the oldest one in use was at its worst moment.
  price             numeric(78,0) CHECK (price > 0),
  price_observed_at timestamptz,
  price_age_seconds bigint CHECK (price_age_seconds >= 0),
  amount_usd        bigint NOT NULL CHECK (amount_usd >= 0),
  transaction_id    uuid,
  idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 1024),
  request_hash      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  UNIQUE (stream_id, interval_start),
  UNIQUE (stream_id, interval_end),
  FOREIGN KEY (stream_id, cooperative_id) REFERENCES streams (id, cooperative_id),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id),
  CHECK (interval_end > interval_start),
  CHECK ((price_source IS NULL) = (price IS NULL) AND (price IS NULL) = (price_reference IS NULL) AND (price IS NULL) = (price_averaging IS NULL)
         AND (price IS NULL) = (price_observed_at IS NULL) AND (price IS NULL) = (price_age_seconds IS NULL)),
  -- A flow is priced; a sample worth µUSD is posted.
  CHECK (amount_wei = 0 OR price IS NOT NULL),
  CHECK ((amount_usd > 0) = (transaction_id IS NOT NULL))
);
CREATE INDEX stream_samples_by_cooperative ON stream_samples (cooperative_id, interval_end);

-- Each sample starts where the stream's books stand: at the end of its last sample, or at its
-- registration. A second sample of the same interval fails on (stream_id, interval_start).
CREATE FUNCTION check_stream_sample() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  stands timestamptz;
BEGIN
  SELECT COALESCE((SELECT max(interval_end) FROM stream_samples WHERE stream_id = NEW.stream_id), s.registered_at) INTO stands
    FROM streams s WHERE s.id = NEW.stream_id AND s.cooperative_id = NEW.cooperative_id AND s.status = 'active';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'stream % is not an active stream of cooperative %', NEW.stream_id, NEW.cooperative_id USING ERRCODE = 'check_violation', CONSTRAINT = 'stream_samples_active_stream';
  END IF;
  IF NEW.interval_start <> stands THEN
    RAISE EXCEPTION 'a sample of stream % starts where its books stand (%), not at %', NEW.stream_id, stands, NEW.interval_start
      USING ERRCODE = 'check_violation', CONSTRAINT = 'stream_samples_contiguous';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER stream_samples_contiguous BEFORE INSERT ON stream_samples FOR EACH ROW EXECUTE FUNCTION check_stream_sample();
CREATE TRIGGER stream_samples_append_only BEFORE UPDATE OR DELETE ON stream_samples FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER stream_samples_no_truncate BEFORE TRUNCATE ON stream_samples FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Prices an operator set by hand, with the reason: the last price source of a chain.
CREATE TABLE manual_token_prices (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  token          text NOT NULL CHECK (token ~ '^0x[0-9a-fA-F]{40}$'),
  -- USD per whole token × 10^18.
  price          numeric(78,0) NOT NULL CHECK (price > 0),
  -- The instant the price is for: it prices samples from then on, within their source's age limit.
  observed_at    timestamptz NOT NULL,
  reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  set_by         text NOT NULL CHECK (length(set_by) BETWEEN 1 AND 200),
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 1024),
  request_hash   text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key)
);
CREATE INDEX manual_token_prices_lookup ON manual_token_prices (cooperative_id, lower(token), observed_at DESC, created_at DESC);
CREATE TRIGGER manual_token_prices_append_only BEFORE UPDATE OR DELETE ON manual_token_prices FOR EACH ROW EXECUTE FUNCTION refuse_history_change();

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['stream_samples', 'manual_token_prices'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id())', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT ON stream_samples, manual_token_prices TO coop_app;

ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired',
  'stream.sampled', 'stream.price_unavailable'));

-- A sample that fails beyond its retries goes to the dead-letter queue.
ALTER TABLE dead_letter_items DROP CONSTRAINT dead_letter_items_operation_type_check;
ALTER TABLE dead_letter_items ADD CONSTRAINT dead_letter_items_operation_type_check
  CHECK (operation_type IN ('mint_credits', 'refund_clawback', 'webhook_delivery', 'stream_sample'));

-- Down Migration
ALTER TABLE dead_letter_items DROP CONSTRAINT dead_letter_items_operation_type_check;
ALTER TABLE dead_letter_items ADD CONSTRAINT dead_letter_items_operation_type_check
  CHECK (operation_type IN ('mint_credits', 'refund_clawback', 'webhook_delivery'));
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired'));
DROP TABLE manual_token_prices, stream_samples;
DROP FUNCTION check_stream_sample();
