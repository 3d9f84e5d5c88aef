-- Up Migration
CREATE TABLE credit_purchases (
  id                 uuid PRIMARY KEY,
  cooperative_id     uuid NOT NULL REFERENCES cooperatives (id),
  member_id          uuid NOT NULL,
  -- µCLOUD bought, and what the card is charged (cents = CLOUD × 10 USD × 100).
  amount             bigint NOT NULL CHECK (amount > 0),
  amount_cents       bigint NOT NULL CHECK (amount_cents > 0 AND amount_cents * 1000 = amount),
  pack               text,
  idempotency_key    text NOT NULL,
  request_hash       text NOT NULL,
  status             text NOT NULL CHECK (status IN ('creating_payment', 'awaiting_payment', 'minted', 'expired', 'refunded')),
  payment_intent_id  text UNIQUE,
  client_secret      text,
  mint_transaction   uuid,
  refunded_cents     bigint NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0 AND refunded_cents <= amount_cents),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, idempotency_key),
  FOREIGN KEY (member_id, cooperative_id) REFERENCES members (id, cooperative_id)
);

-- What happened to a purchase, in order: the history its API shows.
CREATE TABLE credit_purchase_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  purchase_id    uuid NOT NULL REFERENCES credit_purchases (id),
  cooperative_id uuid NOT NULL,
  -- The business key of the step (a workflow step or a Stripe event id): each is recorded once.
  step_key       text NOT NULL,
  status         text NOT NULL,
  detail         jsonb NOT NULL DEFAULT '{}',
  at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (purchase_id, step_key)
);

-- Every Stripe webhook event, recorded once by its id before anything acts on it.
CREATE TABLE stripe_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  purchase_id uuid REFERENCES credit_purchases (id),
  payload     jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  signalled_at timestamptz
);

ALTER TABLE credit_purchases ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_purchase_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON credit_purchases USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
CREATE POLICY tenant ON credit_purchase_events USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
GRANT SELECT, INSERT ON credit_purchases, credit_purchase_events TO coop_app;
GRANT UPDATE (status, payment_intent_id, client_secret, mint_transaction, refunded_cents, updated_at) ON credit_purchases TO coop_app;

-- Down Migration
DROP TABLE stripe_events, credit_purchase_events, credit_purchases;
