import { SignJWT } from 'jose';
import type { Config } from '../../config/config';
import { MAX_TOKEN_LIFETIME, TOKEN_CLASS_OF_ROLE, type Role, type TokenClass } from '../../domain/roles';

/** Each token class has its own audience and secret, so a leaked member secret cannot mint admins. */
export const AUDIENCE: Record<TokenClass, string> = {
  member: 'coop-credits:member',
  admin: 'coop-credits:admin',
  service: 'coop-credits:service',
};

export interface TokenClaims {
  subject: string;
  role: Role;
  cooperativeId?: string;
}

/** Signs a token for `claims`, living `ttlSeconds` (default an hour), never longer than its class allows. */
export async function signToken(jwt: Config['jwt'], claims: TokenClaims, ttlSeconds?: number): Promise<string> {
  const tokenClass = TOKEN_CLASS_OF_ROLE[claims.role];
  const ttl = Math.min(ttlSeconds ?? 3600, MAX_TOKEN_LIFETIME[tokenClass] ?? Infinity);
  const [secret] = jwt[tokenClass];
  if (!secret) throw new Error(`no secret configured for ${tokenClass} tokens`);
  return new SignJWT({ role: claims.role, ...(claims.cooperativeId ? { coop: claims.cooperativeId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(jwt.issuer)
    .setAudience(AUDIENCE[tokenClass])
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(new TextEncoder().encode(secret));
}
