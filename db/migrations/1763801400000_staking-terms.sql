-- Up Migration
-- A cooperative's lock terms: days, multiplier (basis points, 10000 = 1.0x), whether a position comes
-- back by itself at its unlock instant, and the early-exit penalty if the term allows one. A
-- cooperative with no rows here offers the defaults of domain/staking.ts.
CREATE TABLE staking_terms (
  cooperative_id        uuid NOT NULL REFERENCES cooperatives (id),
  days                  integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
  multiplier_bp         integer NOT NULL CHECK (multiplier_bp BETWEEN 1 AND 100000),
  auto_release          boolean NOT NULL,
  -- Null: no early exit.
  early_exit_penalty_bp integer CHECK (early_exit_penalty_bp BETWEEN 0 AND 10000),
  updated_by            text NOT NULL,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cooperative_id, days)
);
ALTER TABLE staking_terms ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON staking_terms USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
-- An admin replaces the whole set.
GRANT SELECT, INSERT, DELETE ON staking_terms TO coop_app;

-- A position keeps the term it was staked under (later changes to the terms leave it alone), the
-- instants of its lock on the clock of whoever decides them (the API at staking, the position's
-- workflow at release), and how it ended.
ALTER TABLE staking_positions
  ADD COLUMN term_days integer,
  ADD COLUMN multiplier_bp integer,
  ADD COLUMN auto_release boolean,
  ADD COLUMN early_exit_penalty_bp integer,
  ADD COLUMN staked_at timestamptz,
  ADD COLUMN unlocks_at timestamptz,
  ADD COLUMN release_kind text CHECK (release_kind IN ('unlocked', 'early_exit')),
  ADD COLUMN penalty bigint;
-- Positions staked before terms existed could be unstaked at once: a lock of no days.
UPDATE staking_positions SET term_days = 0, multiplier_bp = 10000, auto_release = false, staked_at = created_at, unlocks_at = created_at,
  release_kind = CASE WHEN status = 'released' THEN 'unlocked' END, released_at = CASE WHEN status = 'released' THEN GREATEST(released_at, created_at) END;
ALTER TABLE staking_positions
  ALTER COLUMN term_days SET NOT NULL,
  ALTER COLUMN multiplier_bp SET NOT NULL,
  ALTER COLUMN auto_release SET NOT NULL,
  ALTER COLUMN staked_at SET NOT NULL,
  ALTER COLUMN unlocks_at SET NOT NULL,
  ADD CHECK (term_days BETWEEN 0 AND 3650),
  ADD CHECK (multiplier_bp BETWEEN 1 AND 100000),
  ADD CHECK (early_exit_penalty_bp BETWEEN 0 AND 10000),
  ADD CHECK (unlocks_at = staked_at + term_days * interval '1 day'),
  ADD CHECK ((status = 'released') = (released_at IS NOT NULL)),
  ADD CHECK ((status = 'released') = (release_kind IS NOT NULL)),
  -- Never released before its unlock instant, except by an early exit its term allows, with its penalty.
  ADD CONSTRAINT staking_position_locked CHECK (release_kind <> 'unlocked' OR released_at >= unlocks_at),
  ADD CHECK ((release_kind IS NOT DISTINCT FROM 'early_exit') = (penalty IS NOT NULL)),
  ADD CONSTRAINT staking_position_early_exit CHECK (
    release_kind IS DISTINCT FROM 'early_exit' OR (early_exit_penalty_bp IS NOT NULL AND released_at < unlocks_at AND penalty BETWEEN 0 AND amount)),
  ADD UNIQUE (id, cooperative_id);
-- Lists by member, newest first; revenue distributions find the positions of a period.
CREATE INDEX staking_positions_member ON staking_positions (cooperative_id, member_id, created_at DESC, id DESC);
CREATE INDEX staking_positions_listing ON staking_positions (cooperative_id, created_at DESC, id DESC);
CREATE INDEX staking_positions_period ON staking_positions (cooperative_id, staked_at);
GRANT UPDATE (release_kind, penalty) ON staking_positions TO coop_app;

-- Down Migration
REVOKE UPDATE (release_kind, penalty) ON staking_positions FROM coop_app;
DROP INDEX staking_positions_period, staking_positions_listing, staking_positions_member;
ALTER TABLE staking_positions DROP CONSTRAINT staking_positions_id_cooperative_id_key,
  DROP COLUMN penalty, DROP COLUMN release_kind, DROP COLUMN unlocks_at, DROP COLUMN staked_at, DROP COLUMN early_exit_penalty_bp,
  DROP COLUMN auto_release, DROP COLUMN multiplier_bp, DROP COLUMN term_days;
DROP TABLE staking_terms;
