-- Up Migration
-- The daily stream reconciliation is a reconciliation run of its own kind. Each run keeps, per
-- cooperative, token and account of the cooperative's streams, the account's balance on the chain and
-- what its streams booked, at the run's block: the next run compares how each moved since.
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_kind_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_kind_check CHECK (kind IN ('ledger', 'streams'));
-- A stream run examines one cooperative (it is found by it in the Temporal UI); the ledger's, the network.
ALTER TABLE reconciliation_runs ADD COLUMN cooperative_id uuid REFERENCES cooperatives (id);
CREATE INDEX reconciliation_runs_by_cooperative ON reconciliation_runs (cooperative_id, scheduled_for DESC, id DESC) WHERE cooperative_id IS NOT NULL;

CREATE TABLE stream_account_snapshots (
  run_id         uuid NOT NULL REFERENCES reconciliation_runs (id),
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  token          text NOT NULL CHECK (token ~ '^0x[0-9a-fA-F]{40}$'),
  account        text NOT NULL CHECK (account ~ '^0x[0-9a-fA-F]{40}$'),
  block          bigint NOT NULL CHECK (block >= 0),
  taken_at       timestamptz NOT NULL,
  -- What the account holds, in wei: available plus the buffer deposit it has locked as a sender
  -- (returned when its flows stop); negative for an insolvent sender.
  balance        numeric(78,0) NOT NULL,
  -- What the account's streams booked up to taken_at, in wei: their samples, and the flow since the
  -- last one by the chain's history; inbound counts up, outbound down.
  booked         numeric(78,0) NOT NULL,
  PRIMARY KEY (run_id, cooperative_id, token, account)
);
CREATE INDEX stream_account_snapshots_latest ON stream_account_snapshots (cooperative_id, token, account, taken_at DESC);

ALTER TABLE stream_account_snapshots ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON stream_account_snapshots USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT SELECT, INSERT ON stream_account_snapshots TO coop_app;
-- The reconciliation reads every cooperative's samples.
CREATE POLICY network ON stream_samples FOR SELECT USING (app_network_scope());

-- Down Migration
DROP POLICY network ON stream_samples;
DROP TABLE stream_account_snapshots;
DROP INDEX reconciliation_runs_by_cooperative;
ALTER TABLE reconciliation_runs DROP COLUMN cooperative_id;
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_kind_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_kind_check CHECK (kind = ANY (ARRAY['ledger']));
