import { BusinessError } from '../domain/errors';

const DISCOVERY_TIMEOUT_MS = 5_000;

/**
 * Reads an OIDC issuer's discovery document (`<issuer>/.well-known/openid-configuration`) and returns
 * its JWKS address. The document must name the same issuer, as OpenID Connect Discovery requires, so a
 * registration cannot point one issuer's name at another's keys.
 */
export async function discoverJwksUri(issuer: string, allowHttp: boolean): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    document = (await res.json()) as typeof document;
  } catch (err) {
    throw new BusinessError('VALIDATION_ERROR', `The issuer's discovery document could not be read at ${url}: ${(err as Error).message}`);
  }
  if (document.issuer !== issuer) throw new BusinessError('VALIDATION_ERROR', `The discovery document names another issuer (${String(document.issuer)})`);
  const jwksUri = document.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new BusinessError('VALIDATION_ERROR', 'The discovery document has no valid jwks_uri');
  const protocol = new URL(jwksUri).protocol;
  if (protocol !== 'https:' && !(allowHttp && protocol === 'http:')) throw new BusinessError('VALIDATION_ERROR', 'The jwks_uri must use https');
  return jwksUri;
}
