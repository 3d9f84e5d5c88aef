-- Up Migration
-- Promotional campaigns: a budget granted to members in batches, at most a per-wallet cap each.
-- `granted` moves with every batch, under the campaign's row lock, and can never pass the budget.
CREATE TABLE campaigns (
  id                uuid PRIMARY KEY,
  cooperative_id    uuid NOT NULL REFERENCES cooperatives (id),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  budget            bigint NOT NULL CHECK (budget > 0),
  per_wallet_cap    bigint NOT NULL CHECK (per_wallet_cap > 0 AND per_wallet_cap <= budget),
  grant_expiry_days integer NOT NULL CHECK (grant_expiry_days BETWEEN 1 AND 3650),
  granted           bigint NOT NULL DEFAULT 0 CHECK (granted >= 0),
  created_by        text NOT NULL,
  idempotency_key   text NOT NULL,
  request_hash      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  UNIQUE (id, cooperative_id),
  CONSTRAINT campaign_within_budget CHECK (granted <= budget)
);
CREATE INDEX campaigns_listing ON campaigns (cooperative_id, created_at DESC, id DESC);

-- One grant per campaign and member, each a promotional lot of its own. History: never edited.
CREATE TABLE campaign_grants (
  campaign_id    uuid NOT NULL,
  member_id      uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  amount         bigint NOT NULL CHECK (amount > 0),
  lot_id         uuid NOT NULL REFERENCES lots (id),
  transaction_id uuid NOT NULL,
  granted_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, member_id),
  FOREIGN KEY (campaign_id, cooperative_id) REFERENCES campaigns (id, cooperative_id),
  FOREIGN KEY (member_id, cooperative_id) REFERENCES members (id, cooperative_id),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id)
);
CREATE INDEX campaign_grants_listing ON campaign_grants (campaign_id, granted_at DESC, member_id DESC);
CREATE TRIGGER campaign_grants_append_only BEFORE UPDATE OR DELETE ON campaign_grants FOR EACH ROW EXECUTE FUNCTION refuse_history_change();

ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON campaigns USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
CREATE POLICY tenant ON campaign_grants USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON campaigns, campaign_grants TO coop_app;
GRANT UPDATE (granted) ON campaigns TO coop_app;

-- Down Migration
DROP TABLE campaign_grants, campaigns;
