-- Up Migration
-- What a batch of 1,000 usage redemptions paid on the server, per row, measured with pg_stat_statements
-- (decision 0031): one UPDATE per changed lot inside adjust_lots, and at commit one wallet-matches-lots
-- check per wallet entry and per lot change (two sums each, plus a look-up of whether the account is a
-- wallet), because the list of wallets already checked stopped at 64. Both become one statement per
-- statement that changes lots or entries, and one set-based check per transaction at commit.

-- Lot changes in one UPDATE. Still SECURITY DEFINER and still naming nothing but the key: under
-- row-level security the tenant condition let the planner walk the cooperative's lots (decision 0021),
-- so the tenant is checked on the rows changed, and a change list naming any lot of another
-- cooperative, or none, is refused whole. Callers name each lot once (db/ledger/write-transaction.ts
-- sums a batch's changes per lot).
-- Joins are nested loops only: the change list (estimated at 100 rows, whatever its length) drives one
-- probe of the primary key per lot. Otherwise a small cooperative's lots were hashed in full, and the
-- one lot of a transfer cost a scan of them (measured: a sequential scan of every lot, each call).
CREATE OR REPLACE FUNCTION adjust_lots(changes jsonb) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  changed integer;
  strangers integer;
  stray uuid;
BEGIN
  WITH u AS (
    UPDATE lots l SET original = l.original + coalesce(c.og, 0), available = l.available + c.av, reserved = l.reserved + c.rs, consumed = l.consumed + c.cs
      FROM jsonb_to_recordset(changes) AS c(id uuid, og bigint, av bigint, rs bigint, cs bigint)
     WHERE l.id = c.id
    RETURNING l.cooperative_id
  )
  SELECT count(*), count(*) FILTER (WHERE cooperative_id IS DISTINCT FROM app_cooperative_id()) INTO changed, strangers FROM u;
  IF strangers > 0 OR changed <> jsonb_array_length(changes) THEN
    -- Refused whole (the statement is rolled back): which lot, for the message.
    SELECT c.id INTO stray FROM jsonb_to_recordset(changes) AS c(id uuid) LEFT JOIN lots l ON l.id = c.id
     WHERE l.cooperative_id IS DISTINCT FROM app_cooperative_id() LIMIT 1;
    IF stray IS NULL THEN
      -- A lot named twice would be changed once: refused, never half applied.
      RAISE EXCEPTION 'a lot change list names a lot twice' USING ERRCODE = 'cardinality_violation';
    END IF;
    RAISE EXCEPTION 'lot % does not exist in this cooperative', stray USING ERRCODE = 'foreign_key_violation';
  END IF;
END $$;

-- Wallet matches lots, checked once per wallet and transaction, in one query. Constraint triggers fire
-- per row, so the wallets are gathered per statement (the entries' wallets, the lots' accounts) into
-- this transaction's row here, and the row's own deferred trigger checks them all at commit. The first
-- of its events empties the row; the others find nothing. Only these SECURITY DEFINER functions reach
-- the table: the application role has no right on it, so it cannot drop a wallet from the check.
CREATE UNLOGGED TABLE wallets_to_check (
  xact     xid8 PRIMARY KEY,
  accounts uuid[] NOT NULL
);
ALTER TABLE wallets_to_check ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION queue_wallet_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  touched uuid[];
BEGIN
  IF TG_TABLE_NAME = 'entries' THEN
    -- Only wallets (2100, a CLOUD account): each a probe by key, whatever the statement's size.
    SELECT array_agg(n.account_id) INTO touched
      FROM (SELECT DISTINCT account_id FROM changed WHERE currency = 'CLOUD') n
     CROSS JOIN LATERAL (SELECT 1 FROM accounts a WHERE a.id = n.account_id AND a.code = '2100' LIMIT 1) a;
  ELSE
    SELECT array_agg(DISTINCT account_id) INTO touched FROM changed;
  END IF;
  IF touched IS NOT NULL THEN
    INSERT INTO wallets_to_check AS w (xact, accounts) VALUES (pg_current_xact_id(), touched)
      ON CONFLICT (xact) DO UPDATE SET accounts = w.accounts || EXCLUDED.accounts;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION check_wallets_match_lots() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  queued uuid[];
  stray record;
BEGIN
  -- Deferred checks all run at commit, on the final state: one check per wallet is enough.
  DELETE FROM wallets_to_check WHERE xact = pg_current_xact_id() RETURNING accounts INTO queued;
  IF queued IS NULL THEN
    RETURN NULL;
  END IF;
  -- LATERAL: two indexed sums per wallet, whatever the planner guesses of the array's length.
  SELECT w.id, b.total AS ledger_balance, l.total AS in_lots INTO stray
    FROM (SELECT DISTINCT unnest(queued) AS id) w
   CROSS JOIN LATERAL (SELECT coalesce(sum(x.balance), 0) AS total FROM account_balances x WHERE x.account_id = w.id) b
   CROSS JOIN LATERAL (SELECT coalesce(sum(x.available + x.reserved), 0) AS total FROM lots x WHERE x.account_id = w.id AND (x.available > 0 OR x.reserved > 0)) l
   WHERE b.total <> l.total
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'wallet % holds % in its lots but % in the ledger', stray.id, stray.in_lots, stray.ledger_balance
      USING ERRCODE = 'check_violation', CONSTRAINT = 'wallet_matches_lots';
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER entries_match_lots ON entries;
DROP TRIGGER lots_match_wallet ON lots;
DROP FUNCTION check_wallet_matches_lots();
CREATE TRIGGER entries_queue_wallet_check AFTER INSERT ON entries REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION queue_wallet_check();
CREATE TRIGGER lots_inserted_queue_wallet_check AFTER INSERT ON lots REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION queue_wallet_check();
CREATE TRIGGER lots_updated_queue_wallet_check AFTER UPDATE ON lots REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION queue_wallet_check();
CREATE CONSTRAINT TRIGGER wallets_match_lots AFTER INSERT OR UPDATE ON wallets_to_check DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_wallets_match_lots();

-- Down Migration
DROP TRIGGER wallets_match_lots ON wallets_to_check;
DROP TRIGGER lots_updated_queue_wallet_check ON lots;
DROP TRIGGER lots_inserted_queue_wallet_check ON lots;
DROP TRIGGER entries_queue_wallet_check ON entries;
DROP FUNCTION check_wallets_match_lots(), queue_wallet_check();
DROP TABLE wallets_to_check;

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
  IF length(checked) < 64 * 37 THEN
    PERFORM set_config('app.wallets_checked', checked || NEW.account_id::text || ',', true);
  END IF;
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
  FOR EACH ROW WHEN (NEW.currency = 'CLOUD') EXECUTE FUNCTION check_wallet_matches_lots();

CREATE OR REPLACE FUNCTION adjust_lots(changes jsonb) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
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
