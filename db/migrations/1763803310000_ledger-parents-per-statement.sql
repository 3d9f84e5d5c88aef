-- Up Migration
-- The rest of what a statement writing many ledger transactions paid per row (decision 0031): one
-- UPDATE per balance row it changed, one foreign-key check per entry of the transaction it belongs to,
-- and one look-up of the cooperative per transaction. Each becomes one statement per writing statement.

-- Balances: the rows a statement changes are still locked in (account, shard) order, the order every
-- writer takes them in (one probe each), then changed by one UPDATE instead of one per row.
-- Entries: each names a transaction of its own cooperative, checked here over the statement's distinct
-- transactions instead of by a foreign key once per entry. Transactions are never deleted or re-keyed
-- (transactions_append_only), so the key share lock the foreign key took on its parent guarded nothing.
CREATE OR REPLACE FUNCTION apply_entries_to_balances() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  stray record;
  keys uuid[];
  shards smallint[];
  deltas bigint[];
  locked integer;
BEGIN
  -- The entry's account, cooperative and currency must be the account's: the database, not the caller, says so.
  SELECT n.account_id, n.cooperative_id, n.currency INTO stray FROM new_entries n
   WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.account_id AND a.cooperative_id = n.cooperative_id AND a.currency = n.currency)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry does not match its account: no % account % in cooperative %', stray.currency, stray.account_id, stray.cooperative_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  -- And its transaction is one of its cooperative: a probe by key per transaction (LATERAL, whatever the
  -- planner guesses of the transition table's size).
  SELECT n.transaction_id, n.cooperative_id INTO stray
    FROM (SELECT DISTINCT transaction_id, cooperative_id FROM new_entries) n
    LEFT JOIN LATERAL (SELECT t.cooperative_id FROM transactions t WHERE t.id = n.transaction_id LIMIT 1) t ON true
   WHERE t.cooperative_id IS DISTINCT FROM n.cooperative_id
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry names no transaction % in cooperative %', stray.transaction_id, stray.cooperative_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'entries_transaction_id_cooperative_id_fkey';
  END IF;
  -- One shard per transaction and account, chosen from the transaction id: retries hit the same row.
  SELECT array_agg(d.account_id ORDER BY d.account_id, d.shard), array_agg(d.shard ORDER BY d.account_id, d.shard), array_agg(d.delta ORDER BY d.account_id, d.shard)
    INTO keys, shards, deltas
    FROM (SELECT n.account_id, (CASE WHEN a.balance_shards = 1 THEN 0 ELSE abs(hashtext(n.transaction_id::text)) % a.balance_shards END)::smallint AS shard,
                 sum(a.normal_sign * n.amount)::bigint AS delta
            FROM new_entries n JOIN accounts a ON a.id = n.account_id
           GROUP BY 1, 2) d;
  IF keys IS NULL THEN
    RETURN NULL;
  END IF;
  -- The nested loop over the ordered arrays locks the rows in that order.
  SELECT count(*) INTO locked FROM unnest(keys, shards) AS k(account_id, shard)
   CROSS JOIN LATERAL (SELECT 1 FROM account_balances b WHERE b.account_id = k.account_id AND b.shard = k.shard FOR UPDATE) b;
  IF locked < cardinality(keys) THEN
    SELECT k.account_id, k.shard INTO stray FROM unnest(keys, shards) AS k(account_id, shard)
     WHERE NOT EXISTS (SELECT 1 FROM account_balances b WHERE b.account_id = k.account_id AND b.shard = k.shard) LIMIT 1;
    RAISE EXCEPTION 'account % has no balance shard %', stray.account_id, stray.shard;
  END IF;
  UPDATE account_balances b SET balance = b.balance + k.delta, version = b.version + 1
    FROM unnest(keys, shards, deltas) AS k(account_id, shard, delta)
   WHERE b.account_id = k.account_id AND b.shard = k.shard;
  RETURN NULL;
END $$;
ALTER TABLE entries DROP CONSTRAINT entries_transaction_id_cooperative_id_fkey;

-- A transaction belongs to an existing cooperative: once per statement, per distinct cooperative.
CREATE FUNCTION check_transactions_cooperative() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  missing uuid;
BEGIN
  SELECT n.cooperative_id INTO missing
    FROM (SELECT DISTINCT cooperative_id FROM new_transactions) n
   WHERE NOT EXISTS (SELECT 1 FROM cooperatives c WHERE c.id = n.cooperative_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'cooperative % does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER transactions_cooperative_exists ON transactions;
CREATE TRIGGER transactions_cooperative_exists AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION check_transactions_cooperative();
DROP FUNCTION check_transaction_cooperative();

-- Down Migration
CREATE FUNCTION check_transaction_cooperative() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM cooperatives WHERE id = NEW.cooperative_id) THEN
    RAISE EXCEPTION 'cooperative % does not exist', NEW.cooperative_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER transactions_cooperative_exists ON transactions;
CREATE TRIGGER transactions_cooperative_exists BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION check_transaction_cooperative();
DROP FUNCTION check_transactions_cooperative();

ALTER TABLE entries ADD FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id);
CREATE OR REPLACE FUNCTION apply_entries_to_balances() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  stray record;
  d record;
BEGIN
  -- The entry's account, cooperative and currency must be the account's: the database, not the caller, says so.
  SELECT n.account_id, n.cooperative_id, n.currency INTO stray FROM new_entries n
   WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.account_id AND a.cooperative_id = n.cooperative_id AND a.currency = n.currency)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry does not match its account: no % account % in cooperative %', stray.currency, stray.account_id, stray.cooperative_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  -- One shard per transaction and account, chosen from the transaction id: retries hit the same row.
  -- Each row changed by its key, in (account, shard) order: the order its lock is taken in.
  FOR d IN
    SELECT n.account_id, (CASE WHEN a.balance_shards = 1 THEN 0 ELSE abs(hashtext(n.transaction_id::text)) % a.balance_shards END)::smallint AS shard,
           sum(a.normal_sign * n.amount)::bigint AS delta
      FROM new_entries n JOIN accounts a ON a.id = n.account_id
     GROUP BY 1, 2 ORDER BY 1, 2
  LOOP
    UPDATE account_balances SET balance = balance + d.delta, version = version + 1 WHERE account_id = d.account_id AND shard = d.shard;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'account % has no balance shard %', d.account_id, d.shard;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
