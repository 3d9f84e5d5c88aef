import type { Role } from './roles';

/**
 * Roles a cooperative's own identity provider may grant: those bound to the cooperative. Operators act
 * network-wide, so no cooperative's issuer can make one.
 */
export const FEDERATED_ROLES = ['coop_admin', 'service', 'member'] as const satisfies readonly Role[];
export type FederatedRole = (typeof FEDERATED_ROLES)[number];

/** What the member claim's value is matched against: the member's id, address or ENS name. */
export const MEMBER_CLAIM_KEYS = ['id', 'address', 'ens_name'] as const;
export type MemberClaimKey = (typeof MEMBER_CLAIM_KEYS)[number];

/** Token signature algorithms accepted from an issuer (asymmetric only: the issuer keeps its private key). */
export const FEDERATED_ALGORITHMS = ['RS256', 'ES256'] as const;

/** How a cooperative's issuer's claims map to a role and to a member. */
export interface ClaimMapping {
  /** Dotted path of the claim carrying roles (a string or an array of strings), e.g. `realm_access.roles`. */
  roleClaim: string;
  /** Claim value → role. */
  roles: Readonly<Record<string, FederatedRole>>;
  /** Dotted path of the claim naming the member (for the member role). */
  memberClaim: string;
  memberClaimKey: MemberClaimKey;
}

/** The value at a dotted path of a claims object (`realm_access.roles`), or undefined. */
export function claimAt(claims: unknown, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The role the claims map to: when several values map, the most privileged (the order of FEDERATED_ROLES),
 * so that a person who is both an admin and a member acts as the admin they were made.
 */
export function mappedRole(claims: unknown, mapping: Pick<ClaimMapping, 'roleClaim' | 'roles'>): FederatedRole | undefined {
  const raw = claimAt(claims, mapping.roleClaim);
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
  const granted = new Set(values.flatMap((v) => (Object.hasOwn(mapping.roles, v) ? [mapping.roles[v]!] : [])));
  return FEDERATED_ROLES.find((role) => granted.has(role));
}

/** The member claim's value: a non-empty string of at most 255 characters, or undefined. */
export function memberClaimValue(claims: unknown, memberClaim: string): string | undefined {
  const value = claimAt(claims, memberClaim);
  return typeof value === 'string' && value.length > 0 && value.length <= 255 ? value : undefined;
}

/** A cooperative's registered issuer. */
export interface IdentityProvider extends ClaimMapping {
  cooperativeId: string;
  issuer: string;
  audience: string;
  jwksUri: string;
  createdAt: string;
  updatedAt: string;
}
