-- Up Migration
CREATE TABLE cooperatives (
  id          uuid PRIMARY KEY,
  -- The business key: stable, URL-safe, chosen by the network operator.
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text NOT NULL CHECK (status IN ('provisioning', 'active')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz,
  CHECK ((status = 'active') = (activated_at IS NOT NULL))
);

-- Down Migration
DROP TABLE cooperatives;
