-- Up Migration
-- Governance at scale (decision 0020): the electorate and the votes of a proposal live here, not in
-- its workflow. Weights are exact integers of 1/10000 (the spec's vote_weight, four decimals).

-- A member's vote weight, set by the cooperative's admins (10000 = 1.0000).
ALTER TABLE members ADD COLUMN vote_weight bigint NOT NULL DEFAULT 10000 CHECK (vote_weight >= 0 AND vote_weight <= 1000000000000);
GRANT UPDATE (vote_weight) ON members TO coop_app;
-- Proposals open across cooperatives, so the opening transaction (network scope) snapshots each
-- stakeholder's members, and the close freezes each stakeholder's delegation graph.
CREATE POLICY network_lookup ON members FOR SELECT USING (app_network_scope());
CREATE POLICY network_lookup ON delegations FOR SELECT USING (app_network_scope());

-- Votes readable by every member while open, and the amount (micro-CLOUD) above which a budget needs a supermajority.
ALTER TABLE governance_settings
  ADD COLUMN votes_public boolean NOT NULL DEFAULT false,
  ADD COLUMN supermajority_above bigint CHECK (supermajority_above > 0);
GRANT UPDATE (votes_public, supermajority_above) ON governance_settings TO coop_app;

-- Drafts: saved without a window; opening one sets it. voting_closed_at is set once, at the close,
-- under the proposal's exclusive advisory lock that every vote takes shared (db/proposal-votes.ts).
ALTER TABLE proposals DROP CONSTRAINT proposals_status_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_status_check CHECK (status IN ('draft', 'open', 'approved', 'rejected'));
ALTER TABLE proposals ALTER COLUMN closes_at DROP NOT NULL;
ALTER TABLE proposals ADD CONSTRAINT proposals_window CHECK ((status = 'draft') = (closes_at IS NULL));
ALTER TABLE proposals ADD COLUMN voting_closed_at timestamptz;
ALTER TABLE proposals ADD COLUMN opened_at timestamptz;
GRANT UPDATE (closes_at, voting_closed_at, opened_at) ON proposals TO coop_app;
CREATE INDEX proposals_listing ON proposals (created_at DESC, id DESC);
CREATE INDEX proposals_by_stakeholder ON proposals USING gin (stakeholders);

-- Each stakeholder's rules as they stood at opening (with a supermajority applied for a large budget).
CREATE TABLE proposal_stakeholders (
  proposal_id    uuid NOT NULL REFERENCES proposals (id),
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  model          text NOT NULL CHECK (model IN ('majority', 'supermajority', 'consensus', 'consensus_minus_one', 'sociocratic_consent')),
  settings       jsonb NOT NULL,
  votes_public   boolean NOT NULL,
  members        integer NOT NULL CHECK (members >= 0),
  total_weight   bigint NOT NULL CHECK (total_weight >= 0),
  PRIMARY KEY (proposal_id, cooperative_id)
);

-- Who may vote, with what weight: frozen at opening. No foreign key to its stakeholder row: the one
-- statement that writes an electorate inserts that row first (db/proposal-votes.ts), and a per-row
-- check would cost more than the rest of opening a proposal over 100,000 members.
CREATE TABLE proposal_electorate (
  proposal_id    uuid NOT NULL,
  member_id      uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  weight         bigint NOT NULL CHECK (weight >= 0),
  PRIMARY KEY (proposal_id, member_id),
  UNIQUE (proposal_id, cooperative_id, member_id)
);

-- One row per voter: the latest vote counts; `version` counts the changes (a replay changes nothing).
CREATE TABLE proposal_votes (
  proposal_id    uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  member_id      uuid NOT NULL,
  choice         text NOT NULL CHECK (choice IN ('yes', 'no', 'abstain', 'block', 'objection')),
  reason         text CHECK (length(reason) BETWEEN 1 AND 2000),
  version        integer NOT NULL DEFAULT 1,
  cast_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (proposal_id, member_id),
  FOREIGN KEY (proposal_id, cooperative_id, member_id) REFERENCES proposal_electorate (proposal_id, cooperative_id, member_id),
  CHECK (choice <> 'objection' OR reason IS NOT NULL)
);
CREATE INDEX proposal_votes_by_cooperative ON proposal_votes (proposal_id, cooperative_id, member_id);

-- Each stakeholder's delegation graph as it stood at the close.
CREATE TABLE proposal_delegations (
  proposal_id    uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  delegator      uuid NOT NULL,
  delegate       uuid NOT NULL,
  PRIMARY KEY (proposal_id, delegator),
  FOREIGN KEY (proposal_id, cooperative_id) REFERENCES proposal_stakeholders (proposal_id, cooperative_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['proposal_stakeholders', 'proposal_electorate', 'proposal_votes', 'proposal_delegations'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY network ON %I USING (app_network_scope()) WITH CHECK (app_network_scope())', t);
    EXECUTE format('CREATE POLICY stakeholder ON %I FOR SELECT USING (cooperative_id = app_cooperative_id())', t);
    EXECUTE format('GRANT SELECT, INSERT ON %I TO coop_app', t);
  END LOOP;
END $$;
GRANT UPDATE (choice, reason, version, cast_at) ON proposal_votes TO coop_app;
-- The opening fills in the electorate's size and weight once it has snapshotted it.
GRANT UPDATE (members, total_weight) ON proposal_stakeholders TO coop_app;

-- Down Migration
DROP TABLE proposal_delegations, proposal_votes, proposal_electorate, proposal_stakeholders;
DROP INDEX proposals_by_stakeholder, proposals_listing;
REVOKE UPDATE (closes_at, voting_closed_at, opened_at) ON proposals FROM coop_app;
ALTER TABLE proposals DROP COLUMN opened_at, DROP COLUMN voting_closed_at;
ALTER TABLE proposals DROP CONSTRAINT proposals_window;
DELETE FROM proposals WHERE status = 'draft';
ALTER TABLE proposals ALTER COLUMN closes_at SET NOT NULL;
ALTER TABLE proposals DROP CONSTRAINT proposals_status_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_status_check CHECK (status IN ('open', 'approved', 'rejected'));
REVOKE UPDATE (votes_public, supermajority_above) ON governance_settings FROM coop_app;
ALTER TABLE governance_settings DROP COLUMN supermajority_above, DROP COLUMN votes_public;
DROP POLICY network_lookup ON delegations;
DROP POLICY network_lookup ON members;
REVOKE UPDATE (vote_weight) ON members FROM coop_app;
ALTER TABLE members DROP COLUMN vote_weight;
