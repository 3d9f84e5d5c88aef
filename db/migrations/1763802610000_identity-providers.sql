-- Up Migration
-- A cooperative's own OIDC issuer (its Keycloak realm, any OIDC provider): tokens it signs for the
-- audience are accepted, verified against its JWKS, and their claims mapped to a role and a member
-- (decision 0023). One issuer per cooperative; an issuer and audience name one cooperative.
CREATE TABLE identity_providers (
  cooperative_id   uuid PRIMARY KEY REFERENCES cooperatives (id),
  issuer           text NOT NULL CHECK (issuer ~ '^https?://[^\s]+$' AND length(issuer) <= 500),
  audience         text NOT NULL CHECK (length(audience) BETWEEN 1 AND 500),
  -- From the issuer's discovery document, read when the issuer was registered.
  jwks_uri         text NOT NULL CHECK (jwks_uri ~ '^https?://[^\s]+$' AND length(jwks_uri) <= 2000),
  role_claim       text NOT NULL CHECK (length(role_claim) BETWEEN 1 AND 200),
  -- {"<claim value>": "<role>"}: the roles a cooperative's issuer may grant, never operator.
  role_values      jsonb NOT NULL CHECK (jsonb_typeof(role_values) = 'object'),
  member_claim     text NOT NULL CHECK (length(member_claim) BETWEEN 1 AND 200),
  member_claim_key text NOT NULL CHECK (member_claim_key IN ('id', 'address', 'ens_name')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (issuer, audience)
);

-- Registered by the cooperative's admins; found by issuer when a token arrives, before anyone knows
-- its cooperative.
ALTER TABLE identity_providers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON identity_providers USING (cooperative_id = app_cooperative_id()) WITH CHECK (cooperative_id = app_cooperative_id());
CREATE POLICY network_lookup ON identity_providers FOR SELECT USING (app_network_scope());
GRANT SELECT, INSERT, UPDATE, DELETE ON identity_providers TO coop_app;

-- A member claim may name the member by address, compared without case.
CREATE INDEX members_address_lower ON members (cooperative_id, lower(address));

-- Down Migration
DROP INDEX members_address_lower;
DROP TABLE identity_providers;
