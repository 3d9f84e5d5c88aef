import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../../config/config';
import { CLOCK_TOLERANCE_SECONDS, COOPERATIVE_BOUND_ROLES, MAX_TOKEN_LIFETIME, ROLES, TOKEN_CLASS_OF_ROLE, type Role, type TokenClass } from '../../domain/roles';
import { ApiError } from '../errors';
import { AUDIENCE, type TokenClaims } from './tokens';

export type AuthContext = TokenClaims;

const ClaimsSchema = z.object({
  // A subject that is an id (a member's) is compared with ids from paths and bodies, which are lower-cased (Uuid).
  sub: z.string().min(1).max(200).overwrite((sub) => (z.uuid().safeParse(sub).success ? sub.toLowerCase() : sub)),
  role: z.enum(ROLES),
  coop: z.uuid().overwrite((id) => id.toLowerCase()).optional(),
});

const CLASS_OF_AUDIENCE = new Map(Object.entries(AUDIENCE).map(([cls, aud]) => [aud, cls as TokenClass]));

/**
 * Verifies a bearer token: the audience picks the token class, the class's current secret is tried
 * first and its previous secret (during rotation) second, and the role must belong to that class.
 */
export async function authenticate(jwt: Config['jwt'], authorization: string | undefined): Promise<AuthContext> {
  return (await verify(jwt, authorization)).auth;
}

/** How long a verified token is remembered at most, and how many. */
const REMEMBERED_FOR_MS = 60_000;
const MAX_REMEMBERED = 50_000;

/**
 * `authenticate`, remembering tokens it verified by their whole text (signature included) until they
 * would stop verifying (expiry, or their class's maximum age) or for a minute: verifying a signature is
 * the costliest step of a request that only reads. Refusals are not remembered.
 */
export function tokenAuthenticator(jwt: Config['jwt'], now: () => number = Date.now): (authorization: string | undefined) => Promise<AuthContext> {
  const verified = new Map<string, { auth: AuthContext; until: number }>();
  return async (authorization) => {
    const known = authorization === undefined ? undefined : verified.get(authorization);
    if (known && known.until > now()) return known.auth;
    const { auth, validUntil } = await verify(jwt, authorization, now());
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(authorization!, { auth, until: Math.min(validUntil, now() + REMEMBERED_FOR_MS) });
    return auth;
  };
}

async function verify(jwt: Config['jwt'], authorization: string | undefined, now = Date.now()): Promise<{ auth: AuthContext; validUntil: number }> {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!match?.[1]) throw new ApiError('UNAUTHENTICATED', 'A bearer token is required (Authorization: Bearer <jwt>)');
  const token = match[1];

  let audience: unknown;
  try {
    audience = decodeJwt(token).aud;
  } catch {
    throw new ApiError('UNAUTHENTICATED', 'The bearer token is malformed');
  }
  const tokenClass = typeof audience === 'string' ? CLASS_OF_AUDIENCE.get(audience) : undefined;
  if (!tokenClass) throw new ApiError('UNAUTHENTICATED', 'The bearer token has an unknown audience');

  const maxLifetime = MAX_TOKEN_LIFETIME[tokenClass];
  for (const secret of jwt[tokenClass]) {
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
        algorithms: ['HS256'],
        issuer: jwt.issuer,
        audience: AUDIENCE[tokenClass],
        requiredClaims: maxLifetime === undefined ? ['exp', 'sub'] : ['exp', 'iat', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
        ...(maxLifetime === undefined ? {} : { maxTokenAge: maxLifetime }),
      });
      if (maxLifetime !== undefined && payload.exp! - payload.iat! > maxLifetime) throw new ApiError('UNAUTHENTICATED', `A ${tokenClass} token may live at most ${maxLifetime} s`);
      // Without the clock tolerance: remembered only while it verifies strictly.
      const validUntil = Math.min(payload.exp!, maxLifetime === undefined ? Infinity : payload.iat! + maxLifetime) * 1000;
      return { auth: toAuthContext(payload, tokenClass), validUntil };
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (err instanceof ApiError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new ApiError('UNAUTHENTICATED', 'The bearer token has expired or is older than its class allows');
      throw new ApiError('UNAUTHENTICATED', 'The bearer token is invalid');
    }
  }
  throw new ApiError('UNAUTHENTICATED', 'The bearer token signature is invalid');
}

function toAuthContext(payload: unknown, tokenClass: TokenClass): AuthContext {
  const claims = ClaimsSchema.safeParse(payload);
  if (!claims.success) throw new ApiError('UNAUTHENTICATED', 'The bearer token has invalid claims');
  const { sub, role, coop } = claims.data;
  if (TOKEN_CLASS_OF_ROLE[role] !== tokenClass) throw new ApiError('UNAUTHENTICATED', `Role ${role} cannot be carried by a ${tokenClass} token`);
  if (COOPERATIVE_BOUND_ROLES.has(role) && !coop) throw new ApiError('UNAUTHENTICATED', `A ${role} token must name its cooperative (coop claim)`);
  return { subject: sub, role, ...(coop ? { cooperativeId: coop } : {}) };
}

export function requireRole(auth: AuthContext, allowed: readonly Role[]): void {
  if (!allowed.includes(auth.role)) throw new ApiError('FORBIDDEN', `This operation is not allowed for role ${auth.role}`);
}

/** The cooperative the caller acts in: its token's. Work that happens inside one cooperative needs one. */
export function callerCooperative(auth: AuthContext): string {
  if (!auth.cooperativeId) throw new ApiError('FORBIDDEN', 'This is done within a cooperative: the token must name one (coop claim)');
  return auth.cooperativeId;
}

/** Operators (and services not bound to a cooperative) act network-wide; everyone else only in their own. */
export function requireCooperativeAccess(auth: AuthContext, cooperativeId: string): void {
  if (auth.cooperativeId === undefined && (auth.role === 'operator' || auth.role === 'service')) return;
  if (auth.cooperativeId !== cooperativeId) throw new ApiError('FORBIDDEN', 'This resource belongs to another cooperative');
}

/** Members act only on their own wallet; admins, operators and services on any member of their cooperative. */
export function requireMemberAccess(auth: AuthContext, cooperativeId: string, memberId: string): void {
  requireCooperativeAccess(auth, cooperativeId);
  if (auth.role === 'member' && auth.subject !== memberId) throw new ApiError('FORBIDDEN', 'Members can only act on their own wallet');
}

/** Whether a record of `memberId` is the caller's to see: a member's own only; to a member, another's is as unknown as one that does not exist (404, not 403). */
export const ownsOrManages = (auth: AuthContext, memberId: string): boolean => auth.role !== 'member' || auth.subject === memberId;

/** The member a list is narrowed to: a member sees only their own rows; others any member of the cooperative, or all. */
export function listedMember(auth: AuthContext, cooperativeId: string, memberId: string | undefined): string | undefined {
  requireCooperativeAccess(auth, cooperativeId);
  if (auth.role !== 'member') return memberId;
  if (memberId !== undefined && memberId !== auth.subject) throw new ApiError('FORBIDDEN', "Members can only list their own");
  return auth.subject;
}
