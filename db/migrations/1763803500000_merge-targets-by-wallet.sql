-- Up Migration
-- A transfer's merge targets (the receiver's open received lots, one per lot key) were read by a prepared
-- statement under row-level security. Its kept generic plan could start from the index on
-- (cooperative_id, source, source_id) with the tenant's condition and source = 'transfer_in' and filter
-- by wallet: every received lot the cooperative ever had (5.5-12.8 s per call at 1,000,000, seen with
-- auto_explain in the ledger bench). As first_spendable_lots does, the look-up now runs in a function
-- that checks the wallet's tenancy once and reads lots by wallet only, through an index in the order
-- DISTINCT ON wants, holding open received lots only: no plan can reach lots by cooperative.
CREATE INDEX lots_merge_targets ON lots (account_id, category, priority, expires_at, created_at, id)
  WHERE source = 'transfer_in' AND (available > 0 OR reserved > 0);

CREATE FUNCTION merge_target_lots(wallet uuid)
RETURNS TABLE (id uuid, category text, priority integer, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT DISTINCT ON (x.category, x.priority, x.expires_at) x.id, x.category, x.priority, x.expires_at FROM lots x
   WHERE x.account_id = wallet AND x.source = 'transfer_in' AND (x.available > 0 OR x.reserved > 0)
     AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = wallet AND a.cooperative_id = app_cooperative_id())
   ORDER BY x.category, x.priority, x.expires_at, x.created_at, x.id;
END $$;
REVOKE ALL ON FUNCTION merge_target_lots(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION merge_target_lots(uuid) TO coop_app;

-- Down Migration
DROP FUNCTION merge_target_lots(uuid);
DROP INDEX lots_merge_targets;
