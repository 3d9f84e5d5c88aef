-- Up Migration
-- A rate card that reprices the past says why (an operator's reason), kept with the card.
ALTER TABLE rate_cards ADD COLUMN retroactive_reason text CHECK (length(retroactive_reason) BETWEEN 1 AND 2000);

-- Down Migration
ALTER TABLE rate_cards DROP COLUMN retroactive_reason;
