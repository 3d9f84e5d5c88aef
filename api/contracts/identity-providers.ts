import { FEDERATED_ROLES, MEMBER_CLAIM_KEYS, type IdentityProvider } from '../../domain/federation';
import { Uuid } from './common';
import { z } from './zod';

/** A dotted claim path such as `roles` or `realm_access.roles`. */
const ClaimPath = z.string().regex(/^[A-Za-z0-9_:-]{1,64}(\.[A-Za-z0-9_:-]{1,64}){0,4}$/, 'must be a claim name or a dotted path of claim names');

export const IdentityProviderBody = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/ }).max(500).openapi({ example: 'https://sso.techne.coop/realms/techne', description: "the issuer's identifier, exactly as its tokens' iss claim" }),
    audience: z.string().min(1).max(500).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').openapi({ example: 'coop-credits', description: 'the aud the issuer puts in tokens meant for this API' }),
    roleClaim: ClaimPath.openapi({ example: 'realm_access.roles' }),
    roles: z
      .record(z.string().min(1).max(200), z.enum(FEDERATED_ROLES))
      .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= 50, 'map 1 to 50 claim values')
      .openapi({ example: { 'coop-admin': 'coop_admin', 'coop-member': 'member' }, description: 'claim value → role (never operator)' }),
    memberClaim: ClaimPath.openapi({ example: 'wallet_address', description: 'the claim naming the member, for the member role' }),
    memberClaimKey: z.enum(MEMBER_CLAIM_KEYS).openapi({ description: "what the member claim's value is: the member's id, address or ENS name" }),
  })
  .openapi('IdentityProviderSettings');

export const IdentityProviderView = z
  .object({
    cooperativeId: Uuid, issuer: z.string(), audience: z.string(), jwksUri: z.string(), roleClaim: z.string(), roles: z.record(z.string(), z.enum(FEDERATED_ROLES)),
    memberClaim: z.string(), memberClaimKey: z.enum(MEMBER_CLAIM_KEYS), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime(),
  })
  .openapi('IdentityProvider');

export const identityProviderView = (p: IdentityProvider): z.infer<typeof IdentityProviderView> => ({ ...p, roles: { ...p.roles } });
