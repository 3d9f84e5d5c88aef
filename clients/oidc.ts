import http from 'node:http';
import https from 'node:https';
import { BusinessError } from '../domain/errors';
import { publicHost, publicLookup } from './public-network';

const DISCOVERY_TIMEOUT_MS = 5_000;
/** A discovery document is a few kilobytes; more is not one. */
const DISCOVERY_MAX_BYTES = 1_000_000;

/** GETs a JSON document, bounded in time and size, without redirects; only public addresses unless `allowPrivate`. */
function getJson(url: URL, allowPrivate: boolean): Promise<unknown> {
  if (!allowPrivate) publicHost(url);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), ...(allowPrivate ? {} : { lookup: publicLookup }) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`answered ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > DISCOVERY_MAX_BYTES) request.destroy(new Error(`sent more than ${DISCOVERY_MAX_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error('sent a document that is not JSON'));
        }
      });
      res.on('error', reject);
    });
    request.on('error', reject);
  });
}

/**
 * Reads an OIDC issuer's discovery document (`<issuer>/.well-known/openid-configuration`) and returns
 * its JWKS address. The document must name the same issuer, as OpenID Connect Discovery requires, so a
 * registration cannot point one issuer's name at another's keys. Cooperative admins choose the issuer:
 * in production it must be reachable at a public address, as its key set must (api/auth/federated.ts).
 */
export async function discoverJwksUri(issuer: string, options: { allowHttp: boolean; allowPrivate: boolean }): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    document = ((await getJson(new URL(url), options.allowPrivate)) ?? {}) as typeof document;
  } catch (err) {
    throw new BusinessError('VALIDATION_ERROR', `The issuer's discovery document could not be read at ${url}: ${(err as Error).message}`);
  }
  if (document.issuer !== issuer) throw new BusinessError('VALIDATION_ERROR', `The discovery document names another issuer (${String(document.issuer)})`);
  const jwksUri = document.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new BusinessError('VALIDATION_ERROR', 'The discovery document has no valid jwks_uri');
  const protocol = new URL(jwksUri).protocol;
  if (protocol !== 'https:' && !(options.allowHttp && protocol === 'http:')) throw new BusinessError('VALIDATION_ERROR', 'The jwks_uri must use https');
  // A literal address is connected to without a lookup, so the key set's is checked here, once.
  if (!options.allowPrivate) {
    try {
      publicHost(new URL(jwksUri));
    } catch {
      throw new BusinessError('VALIDATION_ERROR', 'The jwks_uri is at an internal address');
    }
  }
  return jwksUri;
}
