import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { authenticate, requireCooperativeAccess, requireRole, tokenAuthenticator } from '../../api/auth/authenticate';
import { AUDIENCE, signToken } from '../../api/auth/tokens';
import { ApiError } from '../../api/errors';
import { loadConfig } from '../../config/config';

const jwt = loadConfig({}).jwt;
const coop = randomUUID();

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (e) {
    return e instanceof ApiError ? e.code : `not an ApiError: ${String(e)}`;
  }
}

function raw(claims: Record<string, unknown>, secret: string, audience: string, exp = Math.floor(Date.now() / 1000) + 60) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setIssuer(jwt.issuer).setAudience(audience).setSubject('s-1').setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

describe('authenticate', () => {
  it('accepts each role with its own token class', async () => {
    for (const role of ['member', 'coop_admin', 'operator', 'service'] as const) {
      const token = await signToken(jwt, { subject: 'x', role, cooperativeId: coop });
      await expect(authenticate(jwt, `Bearer ${token}`)).resolves.toEqual({ subject: 'x', role, cooperativeId: coop });
    }
  });

  it('accepts the previous secret during rotation and nothing older', async () => {
    const rotated = { ...jwt, admin: ['n'.repeat(32), jwt.admin[0]!] };
    const oldToken = await signToken(jwt, { subject: 'a', role: 'coop_admin', cooperativeId: coop });
    await expect(authenticate(rotated, `Bearer ${oldToken}`)).resolves.toMatchObject({ role: 'coop_admin' });
    const retired = { ...jwt, admin: ['n'.repeat(32)] };
    expect(await code(authenticate(retired, `Bearer ${oldToken}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses a role claimed through another class (a member secret cannot mint operators)', async () => {
    const forged = await raw({ role: 'operator' }, jwt.member[0]!, AUDIENCE.member);
    expect(await code(authenticate(jwt, `Bearer ${forged}`))).toBe('UNAUTHENTICATED');
    const wrongSecret = await raw({ role: 'operator' }, jwt.member[0]!, AUDIENCE.admin);
    expect(await code(authenticate(jwt, `Bearer ${wrongSecret}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses missing, malformed, expired, unknown-audience and unbound tokens', async () => {
    expect(await code(authenticate(jwt, undefined))).toBe('UNAUTHENTICATED');
    expect(await code(authenticate(jwt, 'Basic abc'))).toBe('UNAUTHENTICATED');
    expect(await code(authenticate(jwt, 'Bearer a.b.c'))).toBe('UNAUTHENTICATED');
    const expired = await raw({ role: 'operator' }, jwt.admin[0]!, AUDIENCE.admin, Math.floor(Date.now() / 1000) - 60);
    expect(await code(authenticate(jwt, `Bearer ${expired}`))).toBe('UNAUTHENTICATED');
    const elsewhere = await raw({ role: 'operator' }, jwt.admin[0]!, 'someone-else');
    expect(await code(authenticate(jwt, `Bearer ${elsewhere}`))).toBe('UNAUTHENTICATED');
    const unbound = await raw({ role: 'member' }, jwt.member[0]!, AUDIENCE.member);
    expect(await code(authenticate(jwt, `Bearer ${unbound}`))).toBe('UNAUTHENTICATED');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ aud: AUDIENCE.admin, role: 'operator', sub: 'x' })).toString('base64url')}.e30`;
    expect(await code(authenticate(jwt, `Bearer ${none}`))).toBe('UNAUTHENTICATED');
  });

  it('holds service tokens to five minutes of life, with 30 seconds of clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const service = (iat: number | undefined, exp: number) => {
      const t = new SignJWT({ role: 'service', coop }).setProtectedHeader({ alg: 'HS256' }).setIssuer(jwt.issuer).setAudience(AUDIENCE.service).setSubject('svc').setExpirationTime(exp);
      return (iat === undefined ? t : t.setIssuedAt(iat)).sign(new TextEncoder().encode(jwt.service[0]!));
    };
    await expect(authenticate(jwt, `Bearer ${await service(now, now + 300)}`)).resolves.toMatchObject({ role: 'service' });
    expect(await code(authenticate(jwt, `Bearer ${await service(now, now + 301)}`))).toBe('UNAUTHENTICATED');
    expect(await code(authenticate(jwt, `Bearer ${await service(now - 331, now + 60)}`))).toBe('UNAUTHENTICATED');
    expect(await code(authenticate(jwt, `Bearer ${await service(undefined, now + 60)}`))).toBe('UNAUTHENTICATED');
    await expect(authenticate(jwt, `Bearer ${await service(now - 320, now - 25)}`)).resolves.toMatchObject({ role: 'service' });
    const unbound = await raw({ role: 'service' }, jwt.service[0]!, AUDIENCE.service);
    expect(await code(authenticate(jwt, `Bearer ${unbound}`))).toBe('UNAUTHENTICATED');
    // signToken never issues a service token that would be refused.
    const issued = await signToken(jwt, { subject: 'svc', role: 'service', cooperativeId: coop }, 3600);
    await expect(authenticate(jwt, `Bearer ${issued}`)).resolves.toMatchObject({ role: 'service' });
  });

  it('remembers a verified token by its whole text only while it would still verify', async () => {
    let clock = Date.now();
    const remembering = tokenAuthenticator(jwt, () => clock);
    const iat = Math.floor(clock / 1000);
    const sign = (secret: string) =>
      new SignJWT({ role: 'service', coop }).setProtectedHeader({ alg: 'HS256' }).setIssuer(jwt.issuer).setAudience(AUDIENCE.service).setSubject('svc').setIssuedAt(iat).setExpirationTime(iat + 120).sign(new TextEncoder().encode(secret));
    const token = await sign(jwt.service[0]!);
    await expect(remembering(`Bearer ${token}`)).resolves.toMatchObject({ role: 'service', subject: 'svc' });
    // The same claims under another signature are verified, not taken from memory.
    const [header, payload] = token.split('.');
    expect(await code(remembering(`Bearer ${header}.${payload}.${(await sign('not-the-secret')).split('.')[2]}`))).toBe('UNAUTHENTICATED');
    clock += 60_000;
    await expect(remembering(`Bearer ${token}`)).resolves.toMatchObject({ role: 'service' });
    // Past its expiry (and the clock tolerance) it is verified again, and refused.
    clock = (iat + 120 + 31) * 1000;
    expect(await code(remembering(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
    expect(await code(remembering(undefined))).toBe('UNAUTHENTICATED');
  });

  it('scopes roles and cooperatives', () => {
    expect(() => requireRole({ subject: 'm', role: 'member', cooperativeId: coop }, ['operator'])).toThrow(ApiError);
    expect(() => requireRole({ subject: 'o', role: 'operator' }, ['operator'])).not.toThrow();
    expect(() => requireCooperativeAccess({ subject: 'm', role: 'member', cooperativeId: coop }, coop)).not.toThrow();
    expect(() => requireCooperativeAccess({ subject: 'm', role: 'member', cooperativeId: coop }, randomUUID())).toThrow(/another cooperative/);
    expect(() => requireCooperativeAccess({ subject: 'o', role: 'operator' }, randomUUID())).not.toThrow();
  });
});
