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

/** Roles whose tokens must name the cooperative they act in. */
export const COOPERATIVE_BOUND_ROLES: ReadonlySet<Role> = new Set(['member', 'coop_admin']);
