-- Up Migration
-- One row per reconciliation run, unique by its business key (kind + scheduled instant): a schedule that
-- fires twice, a retried activity or a backfill of the same instant finds the run it already made.
CREATE TABLE reconciliation_runs (
  id            uuid PRIMARY KEY,
  -- Written as = ANY (ARRAY[…]): a one-value IN would be stored as `kind = 'ledger'`, which is not read back as a list.
  kind          text NOT NULL CHECK (kind = ANY (ARRAY['ledger'])),
  run_key       text NOT NULL UNIQUE CHECK (length(run_key) BETWEEN 1 AND 200),
  scheduled_for timestamptz NOT NULL,
  status        text NOT NULL CHECK (status IN ('running', 'passed', 'failed')),
  -- Per check: name, passed, findings found (the stored findings are capped per check).
  checks        jsonb NOT NULL DEFAULT '[]',
  finding_count integer NOT NULL DEFAULT 0 CHECK (finding_count >= 0),
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX reconciliation_runs_recent ON reconciliation_runs (scheduled_for DESC, id DESC);

CREATE TABLE reconciliation_findings (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id         uuid NOT NULL REFERENCES reconciliation_runs (id),
  check_name     text NOT NULL,
  cooperative_id uuid,
  subject        text NOT NULL,
  detail         text NOT NULL
);
CREATE INDEX reconciliation_findings_run ON reconciliation_findings (run_id, id);

-- Runs span cooperatives: the network scope writes and reads them.
ALTER TABLE reconciliation_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE reconciliation_findings ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON reconciliation_runs USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY network ON reconciliation_findings USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT SELECT, INSERT ON reconciliation_runs, reconciliation_findings TO coop_app;
GRANT UPDATE (status, checks, finding_count, finished_at) ON reconciliation_runs TO coop_app;

-- Event retention (the event-retention schedule) deletes published events past their retention.
GRANT DELETE ON outbox TO coop_app;

-- Down Migration
REVOKE DELETE ON outbox FROM coop_app;
DROP TABLE reconciliation_findings, reconciliation_runs;
