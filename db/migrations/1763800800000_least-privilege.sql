-- Up Migration
-- The application logs in as coop_app (or a role that is a member of it): not the owner, no BYPASSRLS.
-- Every transaction names its scope: one cooperative (app.cooperative_id, as before), or the network
-- (app.scope = 'network') for the few records that span cooperatives. A query that names neither
-- sees nothing.
CREATE FUNCTION app_network_scope() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('app.scope', true), '') = 'network' $$;
GRANT EXECUTE ON FUNCTION app_network_scope() TO coop_app;

-- Cooperatives: provisioned and looked up network-wide; each tenant still sees its own row.
CREATE POLICY network ON cooperatives USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT INSERT ON cooperatives TO coop_app;
GRANT UPDATE (status, activated_at) ON cooperatives TO coop_app;

-- Proposals span cooperatives: network-wide, and readable by each stakeholder.
ALTER TABLE proposals ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON proposals USING (app_network_scope()) WITH CHECK (app_network_scope());
CREATE POLICY stakeholder ON proposals FOR SELECT USING (app_cooperative_id() = ANY (stakeholders));
GRANT SELECT, INSERT ON proposals TO coop_app;
GRANT UPDATE (status, result, audit, signatures, execution_transaction) ON proposals TO coop_app;

-- Stripe events arrive before anyone knows their cooperative.
ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY network ON stripe_events USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT SELECT, INSERT ON stripe_events TO coop_app;
GRANT UPDATE (purchase_id, signalled_at) ON stripe_events TO coop_app;

-- Governance settings, with the signing keys, are read network-wide to sign and verify records.
CREATE POLICY network ON governance_settings USING (app_network_scope()) WITH CHECK (app_network_scope());
GRANT SELECT, INSERT ON governance_settings TO coop_app;
GRANT UPDATE (model, quorum_bp, quorum_cmp, majority_bp, majority_cmp, supermajority_bp, supermajority_cmp, voting_period_seconds, delegation_allowed, updated_at)
  ON governance_settings TO coop_app;

-- Found by a business id from outside any cooperative: a payment, a rule an operator acts on.
CREATE POLICY network_lookup ON credit_purchases FOR SELECT USING (app_network_scope());
CREATE POLICY network_lookup ON revenue_rules FOR SELECT USING (app_network_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_hits TO coop_app;

-- Lots change only together with the ledger: at commit, every wallet a transaction touched (through
-- its lots or its entries) holds in its lots exactly what its ledger balance says, and every lot holds
-- reserved exactly what open holds reserve on it. A direct UPDATE of lots is refused then.
CREATE INDEX hold_lots_lot ON hold_lots (lot_id);

CREATE FUNCTION check_wallet_matches_lots() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  checked text := coalesce(current_setting('app.wallets_checked', true), '');
  ledger_balance bigint;
  in_lots bigint;
BEGIN
  IF TG_TABLE_NAME = 'entries' AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = NEW.account_id AND code = '2100') THEN
    RETURN NULL;
  END IF;
  -- Deferred checks all run at commit, on the final state: one check per wallet is enough.
  IF position(NEW.account_id::text IN checked) > 0 THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('app.wallets_checked', checked || NEW.account_id::text || ',', true);
  SELECT coalesce(sum(balance), 0) INTO ledger_balance FROM account_balances WHERE account_id = NEW.account_id;
  SELECT coalesce(sum(available + reserved), 0) INTO in_lots FROM lots WHERE account_id = NEW.account_id AND (available > 0 OR reserved > 0);
  IF ledger_balance <> in_lots THEN
    RAISE EXCEPTION 'wallet % holds % in its lots but % in the ledger', NEW.account_id, in_lots, ledger_balance
      USING ERRCODE = 'check_violation', CONSTRAINT = 'wallet_matches_lots';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lots_match_wallet AFTER INSERT OR UPDATE ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_wallet_matches_lots();
CREATE CONSTRAINT TRIGGER entries_match_lots AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_wallet_matches_lots();

CREATE FUNCTION check_lot_reserved_by_holds() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  reserved_now bigint;
  held bigint;
BEGIN
  SELECT reserved INTO reserved_now FROM lots WHERE id = NEW.id;
  SELECT coalesce(sum(hl.amount), 0) INTO held FROM hold_lots hl JOIN holds h ON h.id = hl.hold_id WHERE hl.lot_id = NEW.id AND h.status = 'open';
  IF reserved_now <> held THEN
    RAISE EXCEPTION 'lot % has % reserved but open holds reserve %', NEW.id, reserved_now, held
      USING ERRCODE = 'check_violation', CONSTRAINT = 'lot_reserved_by_open_holds';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lots_reserved_by_holds AFTER UPDATE OF reserved ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_lot_reserved_by_holds();

-- Down Migration
DROP TRIGGER lots_reserved_by_holds ON lots;
DROP TRIGGER entries_match_lots ON entries;
DROP TRIGGER lots_match_wallet ON lots;
DROP FUNCTION check_lot_reserved_by_holds(), check_wallet_matches_lots();
DROP INDEX hold_lots_lot;
REVOKE ALL ON rate_limit_hits FROM coop_app;
DROP POLICY network_lookup ON revenue_rules;
DROP POLICY network_lookup ON credit_purchases;
DROP POLICY network ON governance_settings;
REVOKE INSERT, UPDATE ON governance_settings FROM coop_app;
REVOKE SELECT ON governance_settings FROM coop_app;
DROP POLICY network ON stripe_events;
ALTER TABLE stripe_events DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON stripe_events FROM coop_app;
DROP POLICY stakeholder ON proposals;
DROP POLICY network ON proposals;
ALTER TABLE proposals DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON proposals FROM coop_app;
DROP POLICY network ON cooperatives;
REVOKE INSERT, UPDATE ON cooperatives FROM coop_app;
DROP FUNCTION app_network_scope();
