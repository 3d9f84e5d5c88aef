import type { Pool } from 'pg';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../../config/config';
import { publicAgents } from '../../clients/public-network';
import { identityProvidersOf } from '../../db/identity-providers';
import { findMemberByKey } from '../../db/members';
import { FEDERATED_ALGORITHMS, mappedRole, memberClaimValue, type IdentityProvider } from '../../domain/federation';
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LIFETIME, TOKEN_CLASS_OF_ROLE } from '../../domain/roles';
import { ApiError } from '../errors';
import type { AuthContext } from './authenticate';

/** How long a registration found by issuer is trusted before it is read again. */
const PROVIDERS_FOR_MS = 10_000;
/** jose keeps a fetched JWKS this long, then fetches it again on the next token (keys removed by the issuer stop working). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;

/**
 * Verifies tokens signed by cooperatives' own OIDC issuers (decision 0023). Returns undefined for a
 * token that is not a JWT or names our own issuer: those are the project's tokens (authenticate.ts).
 * Otherwise the issuer and audience pick the registration, the issuer's JWKS verifies the signature
 * (RS256 or ES256; fetched once and cached, fetched again when a token names a key it has not seen, at
 * most every OIDC_JWKS_COOLDOWN_SECONDS), and the configured claims map to a role and, for members, a member.
 */
export function federatedAuthenticator(pool: Pool, config: Pick<Config, 'jwt' | 'oidc'>) {
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const registrations = new Map<string, { until: number; providers: IdentityProvider[] }>();

  const keySetOf = (jwksUri: string) => {
    let keySet = keySets.get(jwksUri);
    if (!keySet) {
      const url = new URL(jwksUri);
      // Only public addresses, as for the issuer's discovery (clients/public-network.ts).
      const agent = config.oidc.allowPrivateIssuers ? {} : { agent: url.protocol === 'https:' ? publicAgents.https : publicAgents.http };
      keySet = createRemoteJWKSet(url, { cooldownDuration: config.oidc.jwksCooldownMs, cacheMaxAge: JWKS_MAX_AGE_MS, timeoutDuration: JWKS_TIMEOUT_MS, ...agent });
      keySets.set(jwksUri, keySet);
    }
    return keySet;
  };

  const providersOf = async (issuer: string) => {
    const known = registrations.get(issuer);
    if (known && known.until > Date.now()) return known.providers;
    const providers = await identityProvidersOf(pool, issuer);
    // Unknown issuers are not remembered: anyone can make up issuers, and the rate limits bound the lookups.
    if (providers.length > 0) registrations.set(issuer, { until: Date.now() + PROVIDERS_FOR_MS, providers });
    return providers;
  };

  return async (authorization: string | undefined): Promise<AuthContext | undefined> => {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (typeof claims.iss !== 'string' || claims.iss === config.jwt.issuer) return undefined;

    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    const matching = (await providersOf(claims.iss)).filter((p) => audiences.includes(p.audience));
    if (matching.length === 0) throw new ApiError('UNAUTHENTICATED', 'The bearer token comes from an issuer no cooperative has registered');
    // A token for the audiences of two cooperatives could act in either: it acts in neither.
    if (matching.length > 1) throw new ApiError('UNAUTHENTICATED', "The bearer token's audiences name more than one cooperative");
    const provider = matching[0]!;

    let payload: typeof claims;
    try {
      ({ payload } = await jwtVerify(token, keySetOf(provider.jwksUri), {
        issuer: provider.issuer,
        audience: provider.audience,
        algorithms: [...FEDERATED_ALGORITHMS],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new ApiError('UNAUTHENTICATED', 'The bearer token has expired');
      // Every refusal of the token itself is a JOSEError; anything else (a refused connection), a timeout or a bad answer is the issuer being unreachable.
      const unreachable = err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError) || /JSON Web Key Set HTTP response/.test(err.message);
      if (unreachable) throw new ApiError('SERVICE_UNAVAILABLE', "The cooperative's identity provider could not be reached");
      throw new ApiError('UNAUTHENTICATED', 'The bearer token is invalid');
    }

    const role = mappedRole(payload, provider);
    if (!role) throw new ApiError('UNAUTHENTICATED', "The bearer token's claims map to no role in its cooperative");
    // The lifetime rules of the project's own tokens hold for federated ones too (services: 5 minutes).
    const maxLifetime = MAX_TOKEN_LIFETIME[TOKEN_CLASS_OF_ROLE[role]];
    if (maxLifetime !== undefined) {
      const { iat, exp } = payload;
      if (typeof iat !== 'number' || exp! - iat > maxLifetime || Date.now() / 1000 - iat > maxLifetime + CLOCK_TOLERANCE_SECONDS) {
        throw new ApiError('UNAUTHENTICATED', `A ${role} token may live at most ${maxLifetime} s`);
      }
    }
    if (role !== 'member') return { subject: `oidc:${payload.sub!}`.slice(0, 200), role, cooperativeId: provider.cooperativeId };

    const key = memberClaimValue(payload, provider.memberClaim);
    const member = key === undefined ? undefined : await findMemberByKey(pool, provider.cooperativeId, provider.memberClaimKey, key);
    if (!member || member.status !== 'active') throw new ApiError('UNAUTHENTICATED', "The bearer token's member claim names no active member of its cooperative");
    return { subject: member.id, role, cooperativeId: provider.cooperativeId };
  };
}
