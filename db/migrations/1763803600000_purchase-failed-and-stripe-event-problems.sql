-- Up Migration
-- A purchase Stripe refused for good ends as failed (domain/credit-purchase.ts).
ALTER TABLE credit_purchases DROP CONSTRAINT credit_purchases_status_check,
  ADD CONSTRAINT credit_purchases_status_check CHECK (status IN ('creating_payment', 'awaiting_payment', 'minted', 'mint_failed', 'expired', 'failed', 'refunded'));
-- Why a recorded Stripe event was not applied to a purchase (unreadable, or no purchase of ours), for
-- operators; null once applied. Set again by every delivery of the event.
ALTER TABLE stripe_events ADD COLUMN problem text;
GRANT UPDATE (problem) ON stripe_events TO coop_app;

-- Down Migration
REVOKE UPDATE (problem) ON stripe_events FROM coop_app;
ALTER TABLE stripe_events DROP COLUMN problem;
UPDATE credit_purchases SET status = 'expired' WHERE status = 'failed';
ALTER TABLE credit_purchases DROP CONSTRAINT credit_purchases_status_check,
  ADD CONSTRAINT credit_purchases_status_check CHECK (status IN ('creating_payment', 'awaiting_payment', 'minted', 'mint_failed', 'expired', 'refunded'));
