-- Up Migration
-- The checks a batch of ledger transactions pays at commit, once per statement or per wallet entry
-- instead of once per entry (decision 0027). A batch of 1,000 usage redemptions writes ~4,500 entries
-- in one statement; measured with pg_stat_statements, COMMIT took longer than the write itself: the
-- balanced-transaction check summed each transaction's entries once per entry (4,500 queries), and the
-- wallet-matches-lots check was queued for every entry to look up whether its account is a wallet.

-- Entries of one transaction sum to zero per currency, checked at the end of the statement that
-- writes them: every ledger transaction's entries are written in one statement (db/ledger/
-- write-transaction.ts), so this is one query per statement over the transactions it touched, and a
-- later statement adding entries to any transaction, new or old, is checked again over all of them.
CREATE FUNCTION check_transactions_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced record;
BEGIN
  -- Per transaction by its index (LATERAL), whatever the planner guesses of the transition table's size.
  SELECT n.transaction_id, string_agg(e.currency || ' ' || e.total, ', ') AS totals INTO unbalanced
    FROM (SELECT DISTINCT transaction_id FROM new_entries) n
   CROSS JOIN LATERAL (SELECT x.currency, sum(x.amount) AS total FROM entries x WHERE x.transaction_id = n.transaction_id GROUP BY x.currency) e
   WHERE e.total <> 0
   GROUP BY n.transaction_id
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'transaction % is unbalanced: %', unbalanced.transaction_id, unbalanced.totals USING ERRCODE = 'check_violation', CONSTRAINT = 'entries_balanced';
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER entries_balanced ON entries;
CREATE TRIGGER entries_balanced AFTER INSERT ON entries REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION check_transactions_balanced();
DROP FUNCTION check_transaction_balanced();

-- Only wallets (2100, a CLOUD account) are checked against their lots: a USD entry is never queued.
DROP TRIGGER entries_match_lots ON entries;
CREATE CONSTRAINT TRIGGER entries_match_lots AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.currency = 'CLOUD') EXECUTE FUNCTION check_wallet_matches_lots();

-- Down Migration
DROP TRIGGER entries_match_lots ON entries;
CREATE CONSTRAINT TRIGGER entries_match_lots AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_wallet_matches_lots();

CREATE FUNCTION check_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced text;
BEGIN
  SELECT string_agg(currency || ' ' || total, ', ') INTO unbalanced
    FROM (SELECT currency, sum(amount) AS total FROM entries WHERE transaction_id = NEW.transaction_id GROUP BY currency) t
   WHERE total <> 0;
  IF unbalanced IS NOT NULL THEN
    RAISE EXCEPTION 'transaction % is unbalanced: %', NEW.transaction_id, unbalanced USING ERRCODE = 'check_violation', CONSTRAINT = 'entries_balanced';
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER entries_balanced ON entries;
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_transaction_balanced();
DROP FUNCTION check_transactions_balanced();
