import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

/** A private signing key as a JWK, with its kid and algorithm. */
export function signingKey(alg: 'RS256' | 'ES256', kid: string): JWK {
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' };
}

/** Signs a token with a key directly, bypassing any provider: for tokens a provider would never issue (expired, foreign). */
export async function signWith(key: JWK, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg!, kid: key.kid!, typ: 'at+jwt' }).sign(await importJWK(key, key.alg));
}

export interface OidcProviderSettings {
  /** Listen here (a restart keeps the issuer); unset, a free port. */
  port?: number;
  /** Private JWKs; the first of `alg` signs, all are published. */
  keys: JWK[];
  alg: 'RS256' | 'ES256';
  audience: string;
  /** client_credentials clients and the claims each one's tokens carry. */
  clients: Record<string, { secret: string; claims: Record<string, unknown> }>;
}

export interface OidcProvider {
  issuer: string;
  port: number;
  /** An access token for the client, obtained by a client_credentials grant at the token endpoint. */
  token(clientId: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the `oidc-provider` package in a process of its own (test/harness/oidc-provider.mjs) and waits until it listens. */
export async function startOidcProvider(settings: OidcProviderSettings): Promise<OidcProvider> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.mjs'), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = /^ready (\S+)$/m.exec(out);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the OIDC provider exited (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    issuer,
    port: Number(new URL(issuer).port),
    async token(clientId) {
      const client = settings.clients[clientId];
      if (!client) throw new Error(`no client ${clientId}`);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${client.secret}`).toString('base64')}` },
        body: 'grant_type=client_credentials&scope=api',
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
