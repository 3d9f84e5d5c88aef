-- Up Migration
-- Client keys are stored scoped to the principal that sent them (db/idempotency.ts clientKey): the
-- namespace, role and subject come before the client's own key of up to 255 characters.
ALTER TABLE transactions DROP CONSTRAINT transactions_idempotency_key_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_idempotency_key_check CHECK (length(idempotency_key) BETWEEN 1 AND 1024);

-- Down Migration
ALTER TABLE transactions DROP CONSTRAINT transactions_idempotency_key_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_idempotency_key_check CHECK (length(idempotency_key) BETWEEN 1 AND 255) NOT VALID;
