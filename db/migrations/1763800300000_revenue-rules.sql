-- Up Migration
CREATE TABLE revenue_rules (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  -- Versions grow per cooperative; a distribution records the version that governed it.
  version        integer NOT NULL CHECK (version > 0),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- [{ name, memberId, basisPoints }], summing to 10000 (checked by the application and below).
  shares         jsonb NOT NULL CHECK (jsonb_typeof(shares) = 'array' AND jsonb_array_length(shares) > 0),
  status         text NOT NULL CHECK (status IN ('draft', 'pending_approval', 'cooling_down', 'active', 'superseded', 'rejected')),
  proposer       text NOT NULL,
  approver       text CHECK (approver IS NULL OR approver <> proposer),
  idempotency_key text NOT NULL,
  request_hash   text NOT NULL,
  cooldown_ends_at timestamptz,
  activated_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, version),
  UNIQUE (cooperative_id, idempotency_key)
);
-- At most one active rule per cooperative, whatever races the application loses.
CREATE UNIQUE INDEX revenue_rules_one_active ON revenue_rules (cooperative_id) WHERE status = 'active';

-- The audit trail of every rule: who did what, when, and why (overrides carry their reason).
CREATE TABLE revenue_rule_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id        uuid NOT NULL REFERENCES revenue_rules (id),
  cooperative_id uuid NOT NULL,
  step_key       text NOT NULL,
  action         text NOT NULL,
  from_status    text NOT NULL,
  to_status      text NOT NULL,
  actor          text,
  reason         text,
  at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (rule_id, step_key)
);
CREATE TRIGGER revenue_rule_events_append_only BEFORE UPDATE OR DELETE ON revenue_rule_events FOR EACH ROW EXECUTE FUNCTION refuse_history_change();

ALTER TABLE revenue_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE revenue_rule_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON revenue_rules USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
CREATE POLICY tenant ON revenue_rule_events USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON revenue_rules, revenue_rule_events TO coop_app;
GRANT UPDATE (status, approver, cooldown_ends_at, activated_at) ON revenue_rules TO coop_app;

-- Down Migration
DROP TABLE revenue_rule_events, revenue_rules;
