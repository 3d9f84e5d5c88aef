-- Up Migration
-- Each level of a stakeholder's vote tree (domain/governance/merkle.ts), written once by the tally: a
-- receipt reads one sibling per level instead of rebuilding the tree from every vote (decision 0032).
-- A level is its nodes' 32-byte hashes end to end; stored uncompressed out of line so a receipt's
-- substring reads only the pages that hold its sibling.
CREATE TABLE proposal_vote_tree (
  proposal_id    uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  level          smallint NOT NULL CHECK (level >= 0),
  hashes         bytea NOT NULL CHECK (length(hashes) % 32 = 0),
  PRIMARY KEY (proposal_id, cooperative_id, level),
  FOREIGN KEY (proposal_id, cooperative_id) REFERENCES proposal_stakeholders (proposal_id, cooperative_id)
);
ALTER TABLE proposal_vote_tree ALTER COLUMN hashes SET STORAGE EXTERNAL;
ALTER TABLE proposal_vote_tree ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON proposal_vote_tree USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY stakeholder ON proposal_vote_tree FOR SELECT USING (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON proposal_vote_tree TO coop_app;

-- Down Migration
DROP TABLE proposal_vote_tree;
