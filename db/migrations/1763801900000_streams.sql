-- Up Migration
-- The stream register (domain/streams.ts holds the lists): Superfluid flows a cooperative books, each
-- by its flow's key. The flow itself is read from the chain: registration records where the chain stood
-- (the block, its timestamp and the flow's rate then), and sampling goes on from there.
CREATE TABLE streams (
  id                 uuid PRIMARY KEY,
  cooperative_id     uuid NOT NULL REFERENCES cooperatives (id),
  name               text CHECK (length(name) BETWEEN 1 AND 200),
  -- EIP-55 checksummed by the application (viem getAddress); the shape is enforced here.
  token              text NOT NULL CHECK (token ~ '^0x[0-9a-fA-F]{40}$'),
  sender             text NOT NULL CHECK (sender ~ '^0x[0-9a-fA-F]{40}$'),
  receiver           text NOT NULL CHECK (receiver ~ '^0x[0-9a-fA-F]{40}$'),
  direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  account            text NOT NULL CHECK (account IN ('revenue', 'expense', 'member_compensation', 'distribution')),
  sampling_interval  text NOT NULL CHECK (sampling_interval IN ('hourly', 'daily', 'weekly', 'period_end')),
  -- In the order they are tried; checked by the application (the configured HTTP sources are not known here).
  price_sources      jsonb NOT NULL CHECK (jsonb_typeof(price_sources) = 'array' AND jsonb_array_length(price_sources) BETWEEN 1 AND 10),
  price_averaging    text NOT NULL CHECK (price_averaging IN ('spot', 'twap')),
  denomination       text NOT NULL CHECK (denomination IN ('usd', 'native')),
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  -- Where sampling starts: the chain's timestamp at registration, the flow's rate then (wei per second)
  -- and that block. Token quantities are exact: NUMERIC(78,0) holds any uint256.
  registered_at      timestamptz NOT NULL,
  registered_rate    numeric(78,0) NOT NULL CHECK (registered_rate >= 0),
  registered_block   bigint NOT NULL CHECK (registered_block >= 0),
  idempotency_key    text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 1024),
  request_hash       text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  deactivated_at     timestamptz,
  UNIQUE (cooperative_id, idempotency_key),
  UNIQUE (id, cooperative_id),
  CHECK (sender <> receiver),
  -- Revenue for inbound streams; an expense, member compensation or a distribution for outbound ones.
  CHECK ((direction = 'inbound') = (account = 'revenue')),
  CHECK ((status = 'inactive') = (deactivated_at IS NOT NULL))
);
-- One active registration per flow in a cooperative: a flow is booked once.
CREATE UNIQUE INDEX streams_active_flow ON streams (cooperative_id, lower(token), lower(sender), lower(receiver)) WHERE status = 'active';
CREATE INDEX streams_by_cooperative ON streams (cooperative_id, created_at DESC, id DESC);

ALTER TABLE streams ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON streams USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
-- The sampling schedule finds the cooperatives with active streams.
CREATE POLICY network ON streams FOR SELECT USING (app_network_scope());
GRANT SELECT, INSERT ON streams TO coop_app;
GRANT UPDATE (status, deactivated_at) ON streams TO coop_app;

-- Down Migration
DROP TABLE streams;
