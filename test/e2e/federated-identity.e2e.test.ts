import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { createMember } from '../../db/members';
import { cloud, provisionCooperative, randomAddress } from '../harness/ledger';
import { signingKey, signWith, startOidcProvider, type OidcProvider, type OidcProviderSettings } from '../harness/oidc';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * Federated identity against a real OpenID Provider (the `oidc-provider` package, run locally): a
 * cooperative registers its issuer, clients obtain access tokens from it by a client_credentials grant,
 * and the API verifies them against the issuer's JWKS and maps their claims to roles and members.
 * The issuer rotates its keys (restarted with a new ES256 key beside the old RS256 one) and the API
 * follows without a restart; tokens of another issuer, for another audience, expired or signed by a
 * key the issuer never published are refused.
 */
describe('federated identity', () => {
  let api: TestApi;
  let coop: string;
  let other: string;
  let admin: string;
  let alice: { id: string; address: string };
  let bob: string;
  let provider: OidcProvider;
  const audience = 'coop-credits-api';
  const oldKey = signingKey('RS256', 'k1');
  let settings: OidcProviderSettings;

  beforeAll(async () => {
    // Every token naming a key the API has not seen fetches the JWKS again (production waits 30 s between fetches).
    api = await startTestApi({ OIDC_JWKS_COOLDOWN_SECONDS: '0' });
    [coop, other] = await Promise.all([provisionCooperative(api.pool), provisionCooperative(api.pool)]);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const address = randomAddress();
    alice = { id: (await createMember(api.pool, coop, { address })).member.id, address };
    bob = (await createMember(api.pool, coop, { address: randomAddress() })).member.id;
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice.id, amount: cloud(5), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });
    const realm = (roles: string[], extra: Record<string, unknown> = {}) => ({ secret: `secret-${randomUUID()}`, claims: { realm_access: { roles }, ...extra } });
    settings = {
      keys: [oldKey],
      alg: 'RS256',
      audience,
      clients: {
        'alice-wallet': realm(['coop-member', 'offline_access'], { wallet: address.toLowerCase() }),
        'stranger-wallet': realm(['coop-member'], { wallet: randomAddress() }),
        billing: realm(['coop-service']),
        'board-portal': realm(['coop-member', 'coop-admin'], { wallet: address }),
        kiosk: realm(['visitor']),
      },
    };
    provider = await startOidcProvider(settings);
  });
  afterAll(async () => {
    await provider?.stop();
    await api?.close();
  });

  const register = (body: Record<string, unknown>, token = admin, cooperativeId = coop) =>
    api.request('PUT', `/v1/cooperatives/${cooperativeId}/identity-provider`, { token, body });
  const mapping = () => ({
    issuer: provider.issuer, audience, roleClaim: 'realm_access.roles',
    roles: { 'coop-member': 'member', 'coop-admin': 'coop_admin', 'coop-service': 'service' }, memberClaim: 'wallet', memberClaimKey: 'address',
  });
  const balance = (token: string, memberId = alice.id) => api.request('GET', `/v1/cooperatives/${coop}/members/${memberId}/balance`, { token });

  it('registers an issuer through its discovery document, for admins of the cooperative only, never granting operator', async () => {
    const made = await register(mapping());
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ cooperativeId: coop, issuer: provider.issuer, audience, jwksUri: `${provider.issuer}/jwks`, memberClaimKey: 'address' });
    expect((await api.request('GET', `/v1/cooperatives/${coop}/identity-provider`, { token: admin })).body).toEqual(made.body);

    const member = await api.token({ subject: alice.id, role: 'member', cooperativeId: coop });
    expect((await register(mapping(), member)).status).toBe(403);
    expect((await register(mapping(), admin, other)).status).toBe(403);
    expect((await register({ ...mapping(), roles: { ops: 'operator' } })).status).toBe(400);
    const nowhere = await register({ ...mapping(), issuer: 'http://127.0.0.1:9/realms/none' });
    expect([nowhere.status, nowhere.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    // The same issuer and audience cannot name a second cooperative.
    const otherAdmin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: other });
    expect((await register(mapping(), otherAdmin, other)).status).toBe(409);
  });

  it('signs a member in with a token from the provider: the member claim names them, and they act as themselves only', async () => {
    const token = await provider.token('alice-wallet');
    const own = await balance(token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ memberId: alice.id, available: '5' });
    expect((await balance(token, bob)).status).toBe(403);
    expect((await api.request('GET', `/v1/cooperatives/${other}/members`, { token })).status).toBe(403);
  });

  it('maps roles from the configured claim: the most privileged mapped value wins, an unmapped one or an unknown member is refused', async () => {
    const service = await provider.token('billing');
    const hold = await api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, headers: { 'idempotency-key': randomUUID() }, body: { memberId: alice.id, amount: '1' } });
    expect(hold.status).toBe(201);
    await api.request('POST', `/v1/cooperatives/${coop}/holds/${hold.body.id}/release`, { token: service });

    const board = await provider.token('board-portal');
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members`, { token: board })).status).toBe(200);
    expect((await balance(board, bob)).status).toBe(200);

    for (const client of ['kiosk', 'stranger-wallet']) {
      const res = await balance(await provider.token(client));
      expect([client, res.status, res.body.error.code]).toEqual([client, 401, 'UNAUTHENTICATED']);
    }
  });

  it('refuses tokens of an unregistered issuer, for another audience, expired, or signed by a key the issuer never published', async () => {
    const stranger = await startOidcProvider({ ...settings, keys: [signingKey('RS256', 'k1')] });
    try {
      const foreign = await balance(await stranger.token('alice-wallet'));
      expect([foreign.status, foreign.body.error.message]).toEqual([401, expect.stringContaining('no cooperative has registered')]);
    } finally {
      await stranger.stop();
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: provider.issuer, aud: audience, sub: 'alice-wallet', realm_access: { roles: ['coop-member'] }, wallet: alice.address, iat: now - 60, exp: now + 240 };
    expect((await balance(await signWith(oldKey, claims))).status).toBe(200);

    const expired = await balance(await signWith(oldKey, { ...claims, iat: now - 900, exp: now - 600 }));
    expect([expired.status, expired.body.error.message]).toEqual([401, 'The bearer token has expired']);
    expect((await balance(await signWith(oldKey, { ...claims, aud: 'another-api' }))).status).toBe(401);
    expect((await balance(await signWith(signingKey('RS256', 'k1'), claims))).status).toBe(401);
    expect((await balance(await signWith(signingKey('ES256', 'k-forged'), claims))).status).toBe(401);
    // A service token lives at most 5 minutes, whoever issued it.
    const service = { ...claims, sub: 'billing', realm_access: { roles: ['coop-service'] } };
    const holds = (token: string) => api.request('GET', `/v1/cooperatives/${coop}/holds`, { token });
    expect((await holds(await signWith(oldKey, service))).status).toBe(200);
    const long = await holds(await signWith(oldKey, { ...service, exp: now + 3600 }));
    expect([long.status, long.body.error.message]).toEqual([401, 'A service token may live at most 300 s']);
  });

  it('follows a key rotation without a restart: a token signed with the new key is verified after one more JWKS fetch', async () => {
    const before = await provider.token('alice-wallet');
    expect((await balance(before)).status).toBe(200);

    await provider.stop();
    const newKey = signingKey('ES256', 'k2');
    provider = await startOidcProvider({ ...settings, port: provider.port, keys: [newKey, oldKey], alg: 'ES256' });
    const after = await provider.token('alice-wallet');
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'ES256', kid: 'k2' });
    expect((await balance(after)).status).toBe(200);
    // Tokens signed before the rotation stay good while the issuer still publishes their key.
    expect((await balance(before)).status).toBe(200);
  });

  it('answers 503, not 401, while the issuer cannot be reached for a key it has not published yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: provider.issuer, aud: audience, sub: 'alice-wallet', realm_access: { roles: ['coop-member'] }, wallet: alice.address, iat: now, exp: now + 300 };
    await provider.stop();
    try {
      const res = await balance(await signWith(signingKey('ES256', 'k3'), claims));
      expect([res.status, res.body.error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      provider = await startOidcProvider({ ...settings, port: provider.port });
    }
  });

  it('stops accepting the issuer once its registration is removed', async () => {
    const token = await provider.token('alice-wallet');
    expect((await api.request('DELETE', `/v1/cooperatives/${coop}/identity-provider`, { token: admin })).status).toBe(204);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/identity-provider`, { token: admin })).status).toBe(404);
    // A fresh API process reads registrations anew (each remembers them for 10 s).
    const fresh = await startTestApi();
    try {
      expect((await fresh.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token })).status).toBe(401);
    } finally {
      await fresh.close();
    }
  });
});
