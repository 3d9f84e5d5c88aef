import type { Pool } from 'pg';
import type { FederatedRole, IdentityProvider, MemberClaimKey } from '../domain/federation';
import { BusinessError } from '../domain/errors';
import { toJsonParam } from './json';
import { inSystemTransaction, inTenantTransaction } from './transaction';

interface Row {
  cooperative_id: string;
  issuer: string;
  audience: string;
  jwks_uri: string;
  role_claim: string;
  role_values: Record<string, FederatedRole>;
  member_claim: string;
  member_claim_key: MemberClaimKey;
  created_at: Date;
  updated_at: Date;
}

const toProvider = (r: Row): IdentityProvider => ({
  cooperativeId: r.cooperative_id, issuer: r.issuer, audience: r.audience, jwksUri: r.jwks_uri, roleClaim: r.role_claim, roles: r.role_values,
  memberClaim: r.member_claim, memberClaimKey: r.member_claim_key, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
});

export type IdentityProviderSettings = Omit<IdentityProvider, 'createdAt' | 'updatedAt'>;

/** Registers the cooperative's issuer, or replaces its settings (one per cooperative). */
export function putIdentityProvider(pool: Pool, p: IdentityProviderSettings): Promise<IdentityProvider> {
  return inTenantTransaction(pool, p.cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(
      `INSERT INTO identity_providers (cooperative_id, issuer, audience, jwks_uri, role_claim, role_values, member_claim, member_claim_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (cooperative_id) DO UPDATE SET issuer = $2, audience = $3, jwks_uri = $4, role_claim = $5, role_values = $6, member_claim = $7, member_claim_key = $8, updated_at = now()
       RETURNING *`,
      [p.cooperativeId, p.issuer, p.audience, p.jwksUri, p.roleClaim, toJsonParam(p.roles), p.memberClaim, p.memberClaimKey],
    );
    return toProvider(rows[0]!);
  });
}

export function findIdentityProvider(pool: Pool, cooperativeId: string): Promise<IdentityProvider | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>('SELECT * FROM identity_providers WHERE cooperative_id = $1', [cooperativeId]);
    return rows[0] && toProvider(rows[0]);
  });
}

export function deleteIdentityProvider(pool: Pool, cooperativeId: string): Promise<void> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rowCount } = await client.query('DELETE FROM identity_providers WHERE cooperative_id = $1', [cooperativeId]);
    if (!rowCount) throw new BusinessError('NOT_FOUND', 'The cooperative has no identity provider');
  });
}

/** The providers registered for an issuer, across cooperatives (a token names its issuer before anyone knows its cooperative). */
export async function identityProvidersOf(pool: Pool, issuer: string): Promise<IdentityProvider[]> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<Row>('SELECT * FROM identity_providers WHERE issuer = $1', [issuer]));
  return rows.map(toProvider);
}
