-- Up Migration
CREATE TABLE governance_settings (
  cooperative_id        uuid PRIMARY KEY REFERENCES cooperatives (id),
  model                 text NOT NULL CHECK (model IN ('majority', 'supermajority', 'consensus', 'consensus_minus_one', 'sociocratic_consent')),
  quorum_bp             integer NOT NULL CHECK (quorum_bp BETWEEN 0 AND 10000),
  quorum_cmp            text NOT NULL CHECK (quorum_cmp IN ('>', '>=')),
  majority_bp           integer NOT NULL CHECK (majority_bp BETWEEN 0 AND 10000),
  majority_cmp          text NOT NULL CHECK (majority_cmp IN ('>', '>=')),
  supermajority_bp      integer NOT NULL CHECK (supermajority_bp BETWEEN 0 AND 10000),
  supermajority_cmp     text NOT NULL CHECK (supermajority_cmp IN ('>', '>=')),
  voting_period_seconds integer NOT NULL CHECK (voting_period_seconds > 0),
  delegation_allowed    boolean NOT NULL,
  -- The cooperative's ed25519 key for signing governance audit records (PEM). A KMS belongs here in production.
  public_key            text NOT NULL,
  private_key           text NOT NULL,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The public delegation graph: each member delegates to at most one other member of the same cooperative.
CREATE TABLE delegations (
  cooperative_id uuid NOT NULL,
  delegator      uuid NOT NULL,
  delegate       uuid NOT NULL CHECK (delegate <> delegator),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cooperative_id, delegator),
  FOREIGN KEY (delegator, cooperative_id) REFERENCES members (id, cooperative_id),
  FOREIGN KEY (delegate, cooperative_id) REFERENCES members (id, cooperative_id)
);

-- Proposals can concern several cooperatives, so they are read across tenants by the API, which checks membership.
CREATE TABLE proposals (
  id                    uuid PRIMARY KEY,
  origin_cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  stakeholders          uuid[] NOT NULL CHECK (cardinality(stakeholders) > 0),
  title                 text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description           text NOT NULL CHECK (length(description) <= 20000),
  proposer              text NOT NULL,
  action                jsonb,
  status                text NOT NULL CHECK (status IN ('open', 'approved', 'rejected')),
  closes_at             timestamptz NOT NULL,
  idempotency_key       text NOT NULL,
  request_hash          text NOT NULL,
  result                jsonb,
  audit                 jsonb,
  signatures            jsonb,
  execution_transaction uuid,
  created_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (origin_cooperative_id, idempotency_key)
);

ALTER TABLE governance_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE delegations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON governance_settings USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
CREATE POLICY tenant ON delegations USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON delegations TO coop_app;

-- Down Migration
DROP TABLE proposals, delegations, governance_settings;
