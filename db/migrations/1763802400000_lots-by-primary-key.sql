-- Up Migration

-- Lot changes are applied one lot at a time, by primary key. As one `UPDATE lots … FROM
-- jsonb_to_recordset(…)` the planner costed the join for 100 rows (the set function's default) and,
-- under row-level security, often preferred scanning every lot of the cooperative (the tenant condition
-- matched the (cooperative_id, source, source_id) index) to one primary-key probe per changed lot; with
-- the plan cached per connection, each write then cost in proportion to the cooperative's history.
-- `id = $1` on a primary key has no such alternative. SECURITY INVOKER: row-level security and the
-- column grants of the caller still apply. See docs/decisions/0021.
CREATE FUNCTION adjust_lots(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM jsonb_to_recordset(changes) AS x(id uuid, og bigint, av bigint, rs bigint, cs bigint) LOOP
    UPDATE lots SET original = original + coalesce(c.og, 0), available = available + c.av, reserved = reserved + c.rs, consumed = consumed + c.cs
     WHERE id = c.id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'lot % does not exist in this cooperative', c.id USING ERRCODE = 'foreign_key_violation';
    END IF;
  END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION adjust_lots(jsonb) TO coop_app;

-- A transfer adds to the receiver's open lot of the same category, priority and expiry instead of opening
-- one more (bounded fragmentation), so a lot's original grows. The wallet-matches-lots check at commit
-- still refuses any lot credit the ledger's entries do not back.
GRANT UPDATE (original) ON lots TO coop_app;

-- The reserved-by-holds check runs only for lots whose reserved amount changed, not for every lot update.
DROP TRIGGER lots_reserved_by_holds ON lots;
CREATE CONSTRAINT TRIGGER lots_reserved_by_holds AFTER UPDATE OF reserved ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.reserved IS DISTINCT FROM NEW.reserved) EXECUTE FUNCTION check_lot_reserved_by_holds();

-- Down Migration
DROP TRIGGER lots_reserved_by_holds ON lots;
CREATE CONSTRAINT TRIGGER lots_reserved_by_holds AFTER UPDATE OF reserved ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_lot_reserved_by_holds();
REVOKE UPDATE (original) ON lots FROM coop_app;
DROP FUNCTION adjust_lots(jsonb);
