-- Up Migration
-- Members can be deactivated (never deleted: the ledger's history names them). A deactivated member's
-- tokens are refused and no new hold may draw on their wallet; their balance stays where it is
-- (decision 0023).
ALTER TABLE members ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated'));
ALTER TABLE members ADD COLUMN deactivated_at timestamptz;
ALTER TABLE members ADD CONSTRAINT members_deactivated_at CHECK ((status = 'deactivated') = (deactivated_at IS NOT NULL));
GRANT UPDATE (status, deactivated_at) ON members TO coop_app;

-- Deactivation takes the wallet's lock (the one every hold takes first), finds no open hold, and
-- commits; a hold reserved after that sees the new status here and is refused.
CREATE FUNCTION refuse_hold_for_inactive_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM members WHERE id = NEW.member_id AND status <> 'active') THEN
    RAISE EXCEPTION 'member % is deactivated', NEW.member_id USING ERRCODE = 'check_violation', CONSTRAINT = 'holds_member_active';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER holds_member_active AFTER INSERT ON holds FOR EACH ROW EXECUTE FUNCTION refuse_hold_for_inactive_member();

-- Lists page newest first by (created_at, id) within a cooperative (db/cursor.ts).
CREATE INDEX members_listing ON members (cooperative_id, created_at DESC, id DESC);
CREATE INDEX holds_listing ON holds (cooperative_id, created_at DESC, id DESC);
CREATE INDEX holds_member_listing ON holds (member_id, created_at DESC, id DESC);
CREATE INDEX credit_purchases_listing ON credit_purchases (cooperative_id, created_at DESC, id DESC);
CREATE INDEX credit_purchases_member_listing ON credit_purchases (member_id, created_at DESC, id DESC);
CREATE INDEX cooperatives_listing ON cooperatives (created_at DESC, id DESC);

-- Down Migration
DROP INDEX cooperatives_listing;
DROP INDEX credit_purchases_member_listing;
DROP INDEX credit_purchases_listing;
DROP INDEX holds_member_listing;
DROP INDEX holds_listing;
DROP INDEX members_listing;
DROP TRIGGER holds_member_active ON holds;
DROP FUNCTION refuse_hold_for_inactive_member();
REVOKE UPDATE (status, deactivated_at) ON members FROM coop_app;
ALTER TABLE members DROP CONSTRAINT members_deactivated_at;
ALTER TABLE members DROP COLUMN deactivated_at;
ALTER TABLE members DROP COLUMN status;
