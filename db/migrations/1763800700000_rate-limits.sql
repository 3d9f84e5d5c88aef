-- Up Migration
-- Request counts per client and fixed window, shared by every API process. Unlogged: counters need
-- no crash safety (after a crash every client starts a fresh window), and they are written on every request.
CREATE UNLOGGED TABLE rate_limit_hits (
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 600),
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL CHECK (hits >= 0),
  PRIMARY KEY (key, window_start)
);

-- Down Migration
DROP TABLE rate_limit_hits;
