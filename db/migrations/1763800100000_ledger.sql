-- Up Migration

-- The role tenant-scoped work runs as (SET LOCAL ROLE per transaction). It is not the table owner,
-- so row-level security applies to it; it has no right to touch balances or rewrite history.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coop_app') THEN
    CREATE ROLE coop_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;
GRANT coop_app TO CURRENT_USER;

-- The cooperative the current transaction acts in; NULL (no rows) when unset.
CREATE FUNCTION app_cooperative_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT NULLIF(current_setting('app.cooperative_id', true), '')::uuid $$;

CREATE TABLE members (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  -- EIP-55 checksummed by the application (viem getAddress); the shape is enforced here.
  address        text NOT NULL CHECK (address ~ '^0x[0-9a-fA-F]{40}$'),
  ens_name       text CHECK (ens_name ~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$'),
  display_name   text CHECK (length(display_name) BETWEEN 1 AND 200),
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, address),
  UNIQUE (ens_name),
  UNIQUE (id, cooperative_id)
);

CREATE TABLE accounts (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  code           text NOT NULL CHECK (code ~ '^[0-9]{4}$'),
  name           text NOT NULL,
  currency       text NOT NULL CHECK (currency IN ('CLOUD', 'USD')),
  type           text NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
  owner_type     text NOT NULL CHECK (owner_type IN ('member', 'cooperative', 'system')),
  member_id      uuid,
  allow_negative boolean NOT NULL,
  -- Accounts every mint or redemption touches keep their running balance in several rows, so
  -- concurrent writers do not queue on one row; the balance is the sum of the shards.
  balance_shards smallint NOT NULL DEFAULT 1 CHECK (balance_shards BETWEEN 1 AND 64),
  -- +1 for debit-normal accounts, -1 for credit-normal: balance = normal_sign * sum(entries).
  normal_sign    smallint GENERATED ALWAYS AS (CASE WHEN type IN ('asset', 'expense') THEN 1 ELSE -1 END) STORED,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((owner_type = 'member') = (member_id IS NOT NULL)),
  -- A per-shard non-negative check would be wrong, so only unsharded accounts may forbid negatives.
  CHECK (balance_shards = 1 OR allow_negative),
  FOREIGN KEY (member_id, cooperative_id) REFERENCES members (id, cooperative_id),
  UNIQUE (id, cooperative_id),
  UNIQUE (id, cooperative_id, currency)
);
CREATE UNIQUE INDEX accounts_cooperative_code ON accounts (cooperative_id, code) WHERE member_id IS NULL;
CREATE UNIQUE INDEX accounts_member_code ON accounts (cooperative_id, code, member_id) WHERE member_id IS NOT NULL;

CREATE TABLE account_balances (
  account_id     uuid NOT NULL REFERENCES accounts (id),
  shard          smallint NOT NULL,
  cooperative_id uuid NOT NULL,
  allow_negative boolean NOT NULL,
  balance        bigint NOT NULL DEFAULT 0,
  version        bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, shard),
  CONSTRAINT balance_not_negative CHECK (allow_negative OR balance >= 0)
);

-- Transactions and entries reference their cooperative and accounts through triggers rather than
-- foreign keys: a foreign key check share-locks the parent row, and every writer of a cooperative would
-- lock the same cooperatives row and the same system accounts. Those parents are never deleted or
-- re-keyed (guarded below), so a plain lookup is as safe. See docs/decisions/0007.
CREATE TABLE transactions (
  id                      uuid PRIMARY KEY,
  cooperative_id          uuid NOT NULL,
  type                    text NOT NULL CHECK (type IN ('mint', 'transfer', 'redemption', 'burn', 'stake', 'unstake', 'correction',
                                                        'refund_clawback', 'revenue_distribution', 'lot_expiry', 'stream_sample')),
  idempotency_key         text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  request_hash            text NOT NULL,
  -- A correction names the transaction it reverses; each transaction can be reversed once.
  reverses_transaction_id uuid UNIQUE REFERENCES transactions (id),
  metadata                jsonb NOT NULL DEFAULT '{}',
  created_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  UNIQUE (id, cooperative_id),
  CHECK ((type = 'correction') = (reverses_transaction_id IS NOT NULL))
);
CREATE INDEX transactions_cooperative_created ON transactions (cooperative_id, created_at DESC, id DESC);

CREATE TABLE entries (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id uuid NOT NULL,
  cooperative_id uuid NOT NULL,
  account_id     uuid NOT NULL,
  currency       text NOT NULL,
  -- Debit positive, credit negative, in µCLOUD or µUSD.
  amount         bigint NOT NULL CHECK (amount <> 0),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id)
  -- The account, its cooperative and its currency are checked by entries_apply_balance below.
);
CREATE INDEX entries_transaction ON entries (transaction_id);
CREATE INDEX entries_account ON entries (account_id, transaction_id);

CREATE TABLE lots (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL,
  account_id     uuid NOT NULL,
  member_id      uuid NOT NULL,
  source         text NOT NULL CHECK (source IN ('purchase', 'grant', 'transfer_in', 'unstake', 'correction', 'distribution')),
  -- The external id the credits came from (a Stripe payment, a grant id, origin transaction and lot).
  source_id      text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 255),
  category       text NOT NULL CHECK (category IN ('promotional', 'paid')),
  priority       integer NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 1000),
  expires_at     timestamptz,
  parent_lot_id  uuid REFERENCES lots (id),
  transaction_id uuid NOT NULL,
  original       bigint NOT NULL CHECK (original > 0),
  available      bigint NOT NULL CHECK (available >= 0),
  reserved       bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  consumed       bigint NOT NULL DEFAULT 0 CHECK (consumed >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lot_parts_sum_to_original CHECK (available + reserved + consumed = original),
  UNIQUE (cooperative_id, source, source_id),
  FOREIGN KEY (account_id, cooperative_id) REFERENCES accounts (id, cooperative_id),
  FOREIGN KEY (member_id, cooperative_id) REFERENCES members (id, cooperative_id),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id)
);
-- The consumption order's index: priority, soonest expiry, promotional first, oldest.
CREATE INDEX lots_spendable ON lots (account_id, priority, expires_at NULLS LAST, category DESC, created_at, id) WHERE available > 0 OR reserved > 0;

-- Every change a transaction made to a lot, so a correction can find and reverse it.
CREATE TABLE lot_movements (
  transaction_id uuid NOT NULL,
  lot_id         uuid NOT NULL REFERENCES lots (id),
  cooperative_id uuid NOT NULL,
  -- Credits taken out of the lot (consumed) by this transaction; negative for credits put in.
  amount         bigint NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (transaction_id, lot_id),
  FOREIGN KEY (transaction_id, cooperative_id) REFERENCES transactions (id, cooperative_id)
);

CREATE TABLE holds (
  id              uuid PRIMARY KEY,
  cooperative_id  uuid NOT NULL,
  member_id       uuid NOT NULL,
  account_id      uuid NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0),
  status          text NOT NULL CHECK (status IN ('open', 'finalized', 'released', 'expired')),
  expires_at      timestamptz NOT NULL,
  final_amount    bigint CHECK (final_amount >= 0 AND final_amount <= amount),
  transaction_id  uuid,
  resolved_at     timestamptz,
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  FOREIGN KEY (account_id, cooperative_id) REFERENCES accounts (id, cooperative_id),
  CHECK ((status = 'open') = (resolved_at IS NULL)),
  CHECK ((status = 'finalized') = (final_amount IS NOT NULL))
);
CREATE INDEX holds_open_expiry ON holds (expires_at) WHERE status = 'open';

CREATE TABLE hold_lots (
  hold_id        uuid NOT NULL REFERENCES holds (id),
  lot_id         uuid NOT NULL REFERENCES lots (id),
  cooperative_id uuid NOT NULL,
  amount         bigint NOT NULL CHECK (amount > 0),
  PRIMARY KEY (hold_id, lot_id)
);

CREATE TABLE staking_positions (
  id                  uuid PRIMARY KEY,
  cooperative_id      uuid NOT NULL,
  member_id           uuid NOT NULL,
  amount              bigint NOT NULL CHECK (amount > 0),
  status              text NOT NULL CHECK (status IN ('active', 'released')),
  stake_transaction   uuid NOT NULL,
  unstake_transaction uuid,
  created_at          timestamptz NOT NULL DEFAULT now(),
  released_at         timestamptz,
  FOREIGN KEY (member_id, cooperative_id) REFERENCES members (id, cooperative_id),
  CHECK ((status = 'released') = (unstake_transaction IS NOT NULL))
);

CREATE TABLE rate_cards (
  id             uuid PRIMARY KEY,
  cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
  version        integer NOT NULL CHECK (version > 0),
  effective_from timestamptz NOT NULL,
  idempotency_key text NOT NULL,
  request_hash   text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  UNIQUE (cooperative_id, version),
  UNIQUE (cooperative_id, effective_from)
);

CREATE TABLE rate_card_rates (
  rate_card_id        uuid NOT NULL REFERENCES rate_cards (id),
  cooperative_id      uuid NOT NULL,
  primitive           text NOT NULL CHECK (primitive IN ('compute_hours', 'transfer_gb', 'long_term_memory_gb_months', 'short_term_memory_gb_hours')),
  -- µCLOUD per whole unit, and what one unit costs in infrastructure (µUSD).
  rate                bigint NOT NULL CHECK (rate > 0),
  infrastructure_cost bigint NOT NULL CHECK (infrastructure_cost >= 0),
  PRIMARY KEY (rate_card_id, primitive)
);

CREATE TABLE outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cooperative_id uuid NOT NULL,
  event_type     text NOT NULL,
  aggregate_id   text NOT NULL,
  payload        jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Balances follow entries, maintained here and only here: the application cannot drift them.
-- SECURITY DEFINER: coop_app has no right to touch account_balances itself.
CREATE FUNCTION apply_entry_to_balance() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  acct record;
  target smallint;
BEGIN
  -- The entry's account, cooperative and currency must be the account's: the database, not the caller, says so.
  SELECT normal_sign, balance_shards INTO acct FROM accounts
   WHERE id = NEW.account_id AND cooperative_id = NEW.cooperative_id AND currency = NEW.currency;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'entry does not match its account: no % account % in cooperative %', NEW.currency, NEW.account_id, NEW.cooperative_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  -- One shard per transaction and account, chosen from the transaction id: retries hit the same row.
  target := CASE WHEN acct.balance_shards = 1 THEN 0 ELSE abs(hashtext(NEW.transaction_id::text)) % acct.balance_shards END;
  UPDATE account_balances
     SET balance = balance + acct.normal_sign * NEW.amount, version = version + 1
   WHERE account_id = NEW.account_id AND shard = target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % has no balance shard %', NEW.account_id, target;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_apply_balance AFTER INSERT ON entries FOR EACH ROW EXECUTE FUNCTION apply_entry_to_balance();

-- A transaction belongs to an existing cooperative (see the note on the transactions table).
CREATE FUNCTION check_transaction_cooperative() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM cooperatives WHERE id = NEW.cooperative_id) THEN
    RAISE EXCEPTION 'cooperative % does not exist', NEW.cooperative_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER transactions_cooperative_exists BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION check_transaction_cooperative();

-- Cooperatives and accounts are never deleted or re-keyed: ledger history points at them.
CREATE FUNCTION refuse_parent_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  refused boolean;
BEGIN
  refused := TG_OP IN ('DELETE', 'TRUNCATE');
  IF NOT refused THEN
    refused := NEW.id <> OLD.id;
    -- Nested, not ORed: a cooperatives row has no such fields, and PL/pgSQL would still look them up.
    IF TG_TABLE_NAME = 'accounts' THEN
      refused := refused OR (NEW.cooperative_id, NEW.currency, NEW.code, NEW.type) IS DISTINCT FROM (OLD.cooperative_id, OLD.currency, OLD.code, OLD.type);
    END IF;
  END IF;
  IF refused THEN
    RAISE EXCEPTION '% rows are never deleted or re-keyed: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER cooperatives_keep BEFORE UPDATE OR DELETE ON cooperatives FOR EACH ROW EXECUTE FUNCTION refuse_parent_change();
CREATE TRIGGER cooperatives_no_truncate BEFORE TRUNCATE ON cooperatives FOR EACH STATEMENT EXECUTE FUNCTION refuse_parent_change();
CREATE TRIGGER accounts_keep BEFORE UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION refuse_parent_change();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION refuse_parent_change();

-- Every account gets its balance rows when it is opened.
CREATE FUNCTION open_account_balances() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO account_balances (account_id, shard, cooperative_id, allow_negative)
  SELECT NEW.id, s, NEW.cooperative_id, NEW.allow_negative FROM generate_series(0, NEW.balance_shards - 1) AS s;
  RETURN NULL;
END $$;
CREATE TRIGGER accounts_open_balances AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION open_account_balances();

-- Only the entries trigger may change a balance.
CREATE FUNCTION guard_account_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'balances change only through ledger entries' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER account_balances_guard BEFORE UPDATE OR DELETE ON account_balances FOR EACH ROW EXECUTE FUNCTION guard_account_balance();

-- Entries of one transaction sum to zero per currency, checked when the transaction commits.
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
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_transaction_balanced();

-- History is append-only: a correction is a new, reversing transaction.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER lot_movements_append_only BEFORE UPDATE OR DELETE ON lot_movements FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER lot_movements_no_truncate BEFORE TRUNCATE ON lot_movements FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Row-level security: coop_app sees and writes only the cooperative named in app.cooperative_id.
ALTER TABLE cooperatives ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON cooperatives USING (id = app_cooperative_id()) WITH CHECK (id = app_cooperative_id());
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['members', 'accounts', 'account_balances', 'transactions', 'entries', 'lots', 'lot_movements', 'holds',
                           'hold_lots', 'staking_positions', 'rate_cards', 'rate_card_rates', 'outbox'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id())', t);
  END LOOP;
END $$;

GRANT SELECT ON cooperatives, account_balances TO coop_app;
GRANT SELECT, INSERT ON members, accounts, transactions, entries, lots, lot_movements, holds, hold_lots, staking_positions,
  rate_cards, rate_card_rates, outbox TO coop_app;
GRANT UPDATE (available, reserved, consumed) ON lots TO coop_app;
GRANT UPDATE (status, final_amount, transaction_id, resolved_at) ON holds TO coop_app;
GRANT UPDATE (status, unstake_transaction, released_at) ON staking_positions TO coop_app;
GRANT UPDATE (display_name, ens_name) ON members TO coop_app;
GRANT EXECUTE ON FUNCTION app_cooperative_id() TO coop_app;

-- Down Migration
DROP POLICY tenant ON cooperatives;
ALTER TABLE cooperatives DISABLE ROW LEVEL SECURITY;
DROP TABLE outbox, rate_card_rates, rate_cards, staking_positions, hold_lots, holds, lot_movements, lots, entries, transactions,
  account_balances, accounts, members;
DROP TRIGGER cooperatives_keep ON cooperatives;
DROP TRIGGER cooperatives_no_truncate ON cooperatives;
DROP FUNCTION refuse_history_change(), check_transaction_balanced(), guard_account_balance(), open_account_balances(),
  apply_entry_to_balance(), check_transaction_cooperative(), refuse_parent_change(), app_cooperative_id();
REVOKE ALL ON cooperatives FROM coop_app;
-- The coop_app role is shared by every database of the server, so it stays.
