-- Up Migration

-- Lot changes are applied one lot at a time, by primary key and nothing else. As one `UPDATE lots …
-- FROM jsonb_to_recordset(…)` under row-level security, the planner could scan every lot of the
-- cooperative instead (the tenant condition matched the (cooperative_id, source, source_id) index); and
-- even `WHERE id = $1` under row-level security can be planned that way once statistics make a
-- cooperative look small (many cooperatives): the tenant condition and the key then tie at one row. A
-- cached generic plan made such a choice for the life of the connection, and every write cost in
-- proportion to the cooperative's history. So the update names only the key, and the tenant is checked
-- on the row it changed: SECURITY DEFINER (row-level security would add its condition back), with the
-- same guard the policy gives (a lot of another cooperative, or none, is refused and nothing is kept).
-- Only the amounts change. See docs/decisions/0021.
CREATE FUNCTION adjust_lots(changes jsonb) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  c record;
  owner uuid;
BEGIN
  FOR c IN SELECT * FROM jsonb_to_recordset(changes) AS x(id uuid, og bigint, av bigint, rs bigint, cs bigint) LOOP
    UPDATE lots SET original = original + coalesce(c.og, 0), available = available + c.av, reserved = reserved + c.rs, consumed = consumed + c.cs
     WHERE id = c.id RETURNING cooperative_id INTO owner;
    IF owner IS DISTINCT FROM app_cooperative_id() THEN
      RAISE EXCEPTION 'lot % does not exist in this cooperative', c.id USING ERRCODE = 'foreign_key_violation';
    END IF;
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION adjust_lots(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION adjust_lots(jsonb) TO coop_app;

-- `og` grows a lot: a transfer adds to the receiver's open lot of the same category, priority and expiry
-- instead of opening one more (bounded fragmentation). coop_app still has no UPDATE right on `original`;
-- the wallet-matches-lots check at commit refuses any lot credit the ledger's entries do not back.

-- The reserved-by-holds check runs only for lots whose reserved amount changed, not for every lot update.
DROP TRIGGER lots_reserved_by_holds ON lots;
CREATE CONSTRAINT TRIGGER lots_reserved_by_holds AFTER UPDATE OF reserved ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.reserved IS DISTINCT FROM NEW.reserved) EXECUTE FUNCTION check_lot_reserved_by_holds();

-- Down Migration
DROP TRIGGER lots_reserved_by_holds ON lots;
CREATE CONSTRAINT TRIGGER lots_reserved_by_holds AFTER UPDATE OF reserved ON lots DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_lot_reserved_by_holds();
DROP FUNCTION adjust_lots(jsonb);
