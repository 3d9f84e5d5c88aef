-- Up Migration
-- Each stakeholder of a proposal votes within its own voting period, counted from the opening: its
-- deadline is kept with its rules, and a vote is open while the voter's cooperative's deadline has not
-- passed. The proposal's closes_at is the last of them, when the workflow closes voting.
ALTER TABLE proposal_stakeholders ADD COLUMN closes_at timestamptz;
UPDATE proposal_stakeholders s SET closes_at = p.closes_at FROM proposals p WHERE p.id = s.proposal_id;
ALTER TABLE proposal_stakeholders ALTER COLUMN closes_at SET NOT NULL;
-- The workflow closes each stakeholder's voting at its deadline (its clock, which tests skip ahead).
ALTER TABLE proposal_stakeholders ADD COLUMN voting_closed_at timestamptz;
GRANT UPDATE (voting_closed_at) ON proposal_stakeholders TO coop_app;

-- Down Migration
ALTER TABLE proposal_stakeholders DROP COLUMN voting_closed_at, DROP COLUMN closes_at;
