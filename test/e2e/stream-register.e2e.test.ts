import { randomUUID } from 'node:crypto';
import type { Address } from 'viem';
import { connectTestChain, freshAccount, fundWithSuperTokens, setFlow, type TestChain } from '../harness/chain';
import { provisionCooperative, randomAddress } from '../harness/ledger';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * The stream register over HTTP: a flow is registered by its key, and where it stands (its rate, the
 * block and its timestamp) is read from the chain, whatever the request says. Lists page by cursor;
 * deactivation stops a stream and frees its flow for a new registration.
 */
describe('stream register', () => {
  let api: TestApi;
  let chain: TestChain;
  let coop: string;
  let admin: string;
  let sender: Address;

  beforeAll(async () => {
    [api, chain] = await Promise.all([startTestApi({ PRICE_HTTP_SOURCES: 'oracle=http://127.0.0.1:9/prices' }), connectTestChain()]);
    coop = await provisionCooperative(api.pool);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    sender = await freshAccount(chain);
    await fundWithSuperTokens(chain, sender, 10n ** 24n);
  });
  afterAll(async () => {
    await api?.close();
  });

  const register = (body: Record<string, unknown>, key: string = randomUUID(), token = admin) =>
    api.request('POST', `/v1/cooperatives/${coop}/streams`, { token, body, headers: { 'idempotency-key': key } });
  const inbound = (receiver: string, extra: Record<string, unknown> = {}) => ({
    token: chain.superToken, sender, receiver, direction: 'inbound', priceSources: [{ type: 'manual' }], ...extra,
  });

  it("registers a flow where the chain has it: its rate, block and the block's timestamp", async () => {
    const receiver = await freshAccount(chain);
    const started = await setFlow(chain, { sender, receiver, rate: 385_802_469_135_802n });
    const res = await register(inbound(receiver.toLowerCase(), { name: 'Investor distribution', samplingInterval: 'hourly', priceAveraging: 'twap' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      cooperativeId: coop, name: 'Investor distribution', token: chain.superToken, sender, receiver, direction: 'inbound', account: 'revenue',
      samplingInterval: 'hourly', priceSources: [{ type: 'manual', maxAgeSeconds: 604_800 }], priceAveraging: 'twap', denomination: 'usd', status: 'active', deactivatedAt: null,
      registeredAt: { flowRate: '385802469135802' },
    });
    // Read at the latest block: the flow's own block, or one mined after it by another test meanwhile.
    expect(BigInt(res.body.registeredAt.block)).toBeGreaterThanOrEqual(started.number);
    expect(Date.parse(res.body.registeredAt.at) / 1000).toBeGreaterThanOrEqual(Number(started.timestamp));

    const got = await api.request('GET', `/v1/cooperatives/${coop}/streams/${res.body.id}`, { token: admin });
    expect(got.body).toEqual(res.body);
  });

  it('takes no flow from the request: a flow that does not run yet is registered at rate 0', async () => {
    const res = await register(inbound(await freshAccount(chain), { direction: 'outbound', account: 'member_compensation', flowRate: '1000' }));
    expect(res.status).toBe(400);
    const ok = await register(inbound(await freshAccount(chain), { direction: 'outbound', account: 'member_compensation', denomination: 'native' }));
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ direction: 'outbound', account: 'member_compensation', denomination: 'native', samplingInterval: 'daily', registeredAt: { flowRate: '0' } });
  });

  it('replays a repeated request, refuses the key for another, and books a flow once', async () => {
    const receiver = await freshAccount(chain);
    const key = randomUUID();
    const first = await register(inbound(receiver), key);
    const again = await register(inbound(receiver), key);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await register(inbound(receiver, { name: 'other' }), key)).status).toBe(422);
    const twice = await register(inbound(receiver));
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('CONFLICT');
  });

  it('refuses what cannot be booked: no super token, an account of the other direction, unknown or repeated price sources', async () => {
    const receiver = await freshAccount(chain);
    const refusals: Array<[Record<string, unknown>, string]> = [
      [inbound(receiver, { token: chain.underlying }), 'body.token'],
      [inbound(receiver, { token: randomAddress() }), 'body.token'],
      [inbound(receiver, { account: 'expense' }), 'body.account'],
      [inbound(receiver, { direction: 'outbound', account: 'revenue' }), 'body.account'],
      [inbound(sender), 'body.receiver'],
      [inbound(receiver, { priceSources: [] }), 'body.priceSources'],
      [inbound(receiver, { priceSources: [{ type: 'http', source: 'nowhere', asset: 'dai' }] }), 'body.priceSources'],
      [inbound(receiver, { priceSources: [{ type: 'manual' }, { type: 'manual', maxAgeSeconds: 60 }] }), 'body.priceSources'],
      [inbound(receiver, { priceSources: [{ type: 'chainlink', aggregator: 'not an address' }] }), 'body.priceSources.0.aggregator'],
      [inbound(receiver, { samplingInterval: 'monthly' }), 'body.samplingInterval'],
    ];
    for (const [body, path] of refusals) {
      const res = await register(body);
      expect({ status: res.status, paths: res.body.error.details?.map((d: { path: string }) => d.path) }).toEqual({ status: 400, paths: [path] });
    }
    const ok = await register(inbound(receiver, { priceSources: [{ type: 'http', source: 'oracle', asset: 'dai' }, { type: 'manual' }] }));
    expect(ok.status).toBe(201);
    expect(ok.body.priceSources).toEqual([{ type: 'http', source: 'oracle', asset: 'dai', maxAgeSeconds: 86_400 }, { type: 'manual', maxAgeSeconds: 604_800 }]);
  });

  it('lists newest first by cursor, filters by status, and deactivates once, freeing the flow', async () => {
    const other = await provisionCooperative(api.pool);
    const otherAdmin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: other });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.request('POST', `/v1/cooperatives/${other}/streams`, {
        token: otherAdmin, body: inbound(await freshAccount(chain)), headers: { 'idempotency-key': randomUUID() },
      });
      ids.unshift(res.body.id);
    }
    const first = await api.request('GET', `/v1/cooperatives/${other}/streams?limit=2`, { token: otherAdmin });
    const second = await api.request('GET', `/v1/cooperatives/${other}/streams?limit=2&cursor=${first.body.nextCursor}`, { token: otherAdmin });
    expect([...first.body.items, ...second.body.items].map((s: { id: string }) => s.id)).toEqual(ids);
    expect(second.body.nextCursor).toBeNull();

    const path = `/v1/cooperatives/${other}/streams/${ids[0]}/deactivate`;
    const off = await api.request('POST', path, { token: otherAdmin });
    expect(off.body).toMatchObject({ status: 'inactive', deactivatedAt: expect.any(String) });
    expect((await api.request('POST', path, { token: otherAdmin })).body.deactivatedAt).toBe(off.body.deactivatedAt);
    const active = await api.request('GET', `/v1/cooperatives/${other}/streams?status=active`, { token: otherAdmin });
    expect(active.body.items.map((s: { id: string }) => s.id)).toEqual(ids.slice(1));
    const again = await api.request('POST', `/v1/cooperatives/${other}/streams`, {
      token: otherAdmin, body: { ...inbound(off.body.receiver) }, headers: { 'idempotency-key': randomUUID() },
    });
    expect(again.status).toBe(201);

    // Another cooperative's admin, a member, a stranger's stream, a bad cursor.
    expect((await api.request('GET', `/v1/cooperatives/${other}/streams`, { token: admin })).status).toBe(403);
    const member = await api.token({ subject: randomUUID(), role: 'member', cooperativeId: other });
    expect([401, 403]).toContain((await api.request('GET', `/v1/cooperatives/${other}/streams`, { token: member })).status);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/streams/${ids[1]}`, { token: admin })).status).toBe(404);
    expect((await api.request('POST', `/v1/cooperatives/${coop}/streams/${randomUUID()}/deactivate`, { token: admin })).status).toBe(404);
    expect((await api.request('GET', `/v1/cooperatives/${other}/streams?cursor=nope`, { token: otherAdmin })).status).toBe(400);
  });

  it("lets operators set a token's price by hand, with a reason, once per key; admins read them", async () => {
    const operator = await api.token({ subject: 'op-1', role: 'operator' });
    const set = (body: Record<string, unknown>, key: string = randomUUID(), token = operator) =>
      api.request('POST', `/v1/cooperatives/${coop}/token-prices`, { token, body, headers: { 'idempotency-key': key } });
    const key = randomUUID();
    const body = { token: chain.superToken.toLowerCase(), price: '1.000250', observedAt: '2026-01-31T23:59:00Z', reason: 'feed down since 22:00, price from the treasury desk' };
    const first = await set(body, key);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ cooperativeId: coop, token: chain.superToken, price: '1.00025', observedAt: '2026-01-31T23:59:00.000Z', setBy: 'op-1', reason: body.reason });
    expect((await set(body, key)).body).toEqual(first.body);
    expect((await set({ ...body, price: '2' }, key)).status).toBe(422);
    const nowKey = randomUUID();
    const now = await set({ token: chain.superToken, price: '0.99', reason: 'manual check' }, nowKey);
    expect(Math.abs(Date.parse(now.body.observedAt) - Date.now())).toBeLessThan(60_000);
    // Omitted means now, and is not part of what the key is bound to: the retry replays the first answer.
    const retried = await set({ token: chain.superToken, price: '0.99', reason: 'manual check' }, nowKey);
    expect({ status: retried.status, body: retried.body }).toEqual({ status: 200, body: now.body });

    for (const bad of [{ ...body, reason: undefined }, { ...body, price: '0' }, { ...body, price: '-1' }, { ...body, price: 1 }, { ...body, observedAt: new Date(Date.now() + 3_600_000).toISOString() }]) {
      expect((await set(bad)).status).toBe(400);
    }
    expect((await set(body, randomUUID(), admin)).status).toBe(403);
    const listed = await api.request('GET', `/v1/cooperatives/${coop}/token-prices?token=${chain.superToken}&limit=1`, { token: admin });
    expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual([now.body.id]);
    const next = await api.request('GET', `/v1/cooperatives/${coop}/token-prices?token=${chain.superToken}&limit=1&cursor=${listed.body.nextCursor}`, { token: admin });
    expect(next.body.items.map((p: { id: string }) => p.id)).toEqual([first.body.id]);
  });
});
