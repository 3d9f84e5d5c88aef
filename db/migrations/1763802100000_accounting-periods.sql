-- Up Migration
-- Accounting periods (domain/accounting-periods.ts: UTC calendar months, YYYY-MM). A period is open
-- until it is closed; a row records its close, `closing` while the boundary samples are taken, then
-- `closed`. The database holds both rules of a close: a period closes only once every stream that ran
-- in it is sampled to its boundary, and no stream sample posts into a closed period.
CREATE TABLE accounting_periods (
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  period         text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  starts_at      timestamptz NOT NULL,
  ends_at        timestamptz NOT NULL,
  status         text NOT NULL CHECK (status IN ('closing', 'closed')),
  requested_by   text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 200),
  requested_at   timestamptz NOT NULL DEFAULT now(),
  closed_at      timestamptz,
  PRIMARY KEY (cooperative_id, period),
  CHECK (ends_at > starts_at),
  CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- A period closes only after its end, and only when every stream registered before its end and still
-- active is sampled up to it. Closed stays closed.
CREATE FUNCTION check_period_close() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  behind text;
BEGIN
  IF OLD.status = 'closed' THEN
    RAISE EXCEPTION 'period % is closed', OLD.period USING ERRCODE = 'check_violation', CONSTRAINT = 'accounting_periods_closed_stays_closed';
  END IF;
  IF NEW.status = 'closed' THEN
    IF NEW.ends_at > now() THEN
      RAISE EXCEPTION 'period % has not ended', NEW.period USING ERRCODE = 'check_violation', CONSTRAINT = 'accounting_periods_ended';
    END IF;
    SELECT string_agg(s.id::text, ', ') INTO behind
      FROM streams s
     WHERE s.cooperative_id = NEW.cooperative_id AND s.status = 'active' AND s.registered_at < NEW.ends_at
       AND COALESCE((SELECT max(interval_end) FROM stream_samples x WHERE x.stream_id = s.id), s.registered_at) < NEW.ends_at;
    IF behind IS NOT NULL THEN
      RAISE EXCEPTION 'period % cannot close: streams % are not sampled to its end', NEW.period, behind
        USING ERRCODE = 'check_violation', CONSTRAINT = 'accounting_periods_sampled';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounting_periods_close BEFORE UPDATE ON accounting_periods FOR EACH ROW EXECUTE FUNCTION check_period_close();
CREATE TRIGGER accounting_periods_no_delete BEFORE DELETE ON accounting_periods FOR EACH ROW EXECUTE FUNCTION refuse_history_change();

-- No stream sample posts into a closed period. A sample lies in one period (every period boundary is a
-- sampling instant), so its start says which.
CREATE FUNCTION check_sample_period_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM accounting_periods p WHERE p.cooperative_id = NEW.cooperative_id AND p.status = 'closed'
              AND p.starts_at <= NEW.interval_start AND NEW.interval_start < p.ends_at) THEN
    RAISE EXCEPTION 'the period of % is closed: nothing posts into it', NEW.interval_start USING ERRCODE = 'check_violation', CONSTRAINT = 'stream_samples_period_closed';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER stream_samples_period_open BEFORE INSERT ON stream_samples FOR EACH ROW EXECUTE FUNCTION check_sample_period_open();

ALTER TABLE accounting_periods ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON accounting_periods USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON accounting_periods TO coop_app;
GRANT UPDATE (status, closed_at) ON accounting_periods TO coop_app;

ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired',
  'stream.sampled', 'stream.price_unavailable', 'period.closed'));

-- Down Migration
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN (
  'cloud.minted', 'cloud.transferred', 'cloud.redeemed', 'cloud.held', 'cloud.released', 'cloud.burned',
  'cloud.clawed_back', 'cloud.corrected', 'cloud.expired', 'cloud.staked', 'cloud.unstaked',
  'revenue.distributed', 'rate_card.created', 'revenue_rule.activated', 'proposal.decided', 'reconciliation.alert',
  'staking_terms.updated', 'campaign.created', 'correction.proposed', 'correction.rejected', 'correction.expired',
  'stream.sampled', 'stream.price_unavailable'));
DROP TRIGGER stream_samples_period_open ON stream_samples;
DROP FUNCTION check_sample_period_open();
DROP TABLE accounting_periods;
DROP FUNCTION check_period_close();
