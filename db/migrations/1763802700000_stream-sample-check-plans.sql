-- Up Migration
-- A sample's checks run once per inserted row, and PL/pgSQL keeps each query's plan for the session.
-- The contiguity check looked its stream up by id, cooperative and `status = 'active'`; that last
-- condition let the planner use the partial index of active flows, keyed by cooperative, which it
-- costed as cheap as the primary key: each row then read every active stream of its cooperative
-- (1-9 ms a row at 1,000 streams, growing with them). Looked up by id alone, the stream is one
-- primary-key step whatever the size, and its status is checked on the row found.
CREATE OR REPLACE FUNCTION check_stream_sample() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  stream record;
  stands timestamptz;
BEGIN
  SELECT s.cooperative_id, s.status, s.registered_at INTO stream FROM streams s WHERE s.id = NEW.stream_id;
  IF NOT FOUND OR stream.cooperative_id <> NEW.cooperative_id OR stream.status <> 'active' THEN
    RAISE EXCEPTION 'stream % is not an active stream of cooperative %', NEW.stream_id, NEW.cooperative_id USING ERRCODE = 'check_violation', CONSTRAINT = 'stream_samples_active_stream';
  END IF;
  stands := COALESCE((SELECT x.interval_end FROM stream_samples x WHERE x.stream_id = NEW.stream_id ORDER BY x.interval_end DESC LIMIT 1), stream.registered_at);
  IF NEW.interval_start <> stands THEN
    RAISE EXCEPTION 'a sample of stream % starts where its books stand (%), not at %', NEW.stream_id, stands, NEW.interval_start
      USING ERRCODE = 'check_violation', CONSTRAINT = 'stream_samples_contiguous';
  END IF;
  RETURN NEW;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION check_stream_sample() RETURNS trigger LANGUAGE plpgsql AS $$
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
