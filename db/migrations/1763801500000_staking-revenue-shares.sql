-- Up Migration
-- What each position was paid by a revenue distribution's stakers share, in the distribution's own
-- transaction: the time it was committed within the period, its basis points of the stakers share
-- (summing to 10000 per distribution) and the µCLOUD paid (summing to the share). History: never edited.
CREATE TABLE staking_revenue_shares (
  transaction_id  uuid NOT NULL,
  position_id     uuid NOT NULL,
  cooperative_id  uuid NOT NULL,
  distribution_id text NOT NULL CHECK (length(distribution_id) BETWEEN 1 AND 200),
  committed_ms    bigint NOT NULL CHECK (committed_ms > 0),
  basis_points    integer NOT NULL CHECK (basis_points BETWEEN 0 AND 10000),
  amount          bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (transaction_id, position_id),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id),
  FOREIGN KEY (position_id, cooperative_id) REFERENCES staking_positions (id, cooperative_id)
);
CREATE INDEX staking_revenue_shares_position ON staking_revenue_shares (position_id);
CREATE TRIGGER staking_revenue_shares_append_only BEFORE UPDATE OR DELETE ON staking_revenue_shares FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
ALTER TABLE staking_revenue_shares ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON staking_revenue_shares USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON staking_revenue_shares TO coop_app;

-- Down Migration
DROP TABLE staking_revenue_shares;
