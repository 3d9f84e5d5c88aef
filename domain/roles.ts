/** Who may call the API. Admins and operators share a token class; members and services have their own. */
export const ROLES = ['member', 'coop_admin', 'operator', 'service'] as const;
export type Role = (typeof ROLES)[number];

export type TokenClass = 'member' | 'admin' | 'service';

export const TOKEN_CLASS_OF_ROLE: Record<Role, TokenClass> = {
  member: 'member',
  coop_admin: 'admin',
  operator: 'admin',
  service: 'service',
};

/** Roles whose tokens must name the cooperative they act in (only operators act network-wide). */
export const COOPERATIVE_BOUND_ROLES: ReadonlySet<Role> = new Set(['member', 'coop_admin', 'service']);

/**
 * Longest life a token of a class may have, from issue to expiry and from issue to now, in seconds.
 * Services sign a fresh short token per call (the billing seed's 5 minutes), so a leaked one is worth little.
 */
export const MAX_TOKEN_LIFETIME: Readonly<Partial<Record<TokenClass, number>>> = { service: 300 };

/** How far apart the issuer's clock and ours may be. */
export const CLOCK_TOLERANCE_SECONDS = 30;
