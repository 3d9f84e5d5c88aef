-- Up Migration
-- Operators' corrections: each reverses one transaction with a new one (the ledger's
-- reverses_transaction_id). One moving more than the configured threshold waits in `proposed` for a
-- second operator; the database refuses one applied without that second operator.
CREATE TABLE corrections (
  id                     uuid PRIMARY KEY,
  cooperative_id         uuid NOT NULL REFERENCES cooperatives (id),
  transaction_id         uuid NOT NULL,
  amount                 bigint NOT NULL CHECK (amount >= 0),
  reason                 text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  requires_approval      boolean NOT NULL,
  status                 text NOT NULL CHECK (status IN ('proposed', 'applied', 'rejected', 'expired')),
  proposed_by            text NOT NULL,
  proposed_at            timestamptz NOT NULL DEFAULT now(),
  -- The second operator who approved or rejected it (null when no approval was needed, or it expired).
  decided_by             text,
  decided_at             timestamptz,
  decision_reason        text CHECK (length(decision_reason) BETWEEN 1 AND 2000),
  correction_transaction uuid,
  idempotency_key        text NOT NULL,
  request_hash           text NOT NULL,
  UNIQUE (cooperative_id, idempotency_key),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id),
  FOREIGN KEY (correction_transaction, cooperative_id) REFERENCES transactions (id, cooperative_id),
  CHECK ((status = 'proposed') = (decided_at IS NULL)),
  CHECK ((status = 'applied') = (correction_transaction IS NOT NULL)),
  CONSTRAINT correction_four_eyes CHECK (NOT requires_approval OR status <> 'applied' OR (decided_by IS NOT NULL AND decided_by <> proposed_by))
);
-- A transaction has at most one correction proposed or applied (and the ledger reverses it once).
CREATE UNIQUE INDEX corrections_one_per_transaction ON corrections (transaction_id) WHERE status IN ('proposed', 'applied');
CREATE INDEX corrections_listing ON corrections (cooperative_id, proposed_at DESC, id DESC);
ALTER TABLE corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON corrections USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON corrections TO coop_app;
GRANT UPDATE (status, decided_by, decided_at, decision_reason, correction_transaction) ON corrections TO coop_app;

-- Down Migration
DROP TABLE corrections;
