import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/** The ledger driven over HTTP the way member apps, admin tools and services do. */
describe('ledger API', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  let service: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };

  const post = (path: string, token: string, body: unknown, key: string | null = randomUUID()) =>
    api.request('POST', path, { token, body, headers: key ? { 'idempotency-key': key } : {} });

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `ledger-${randomUUID().slice(0, 8)}`, name: 'Ledger Coop' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
    admin = await api.token({ subject: 'admin-1', role: 'coop_admin', cooperativeId: coop });
    service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
    const member = async () => {
      const res = await post(`/v1/cooperatives/${coop}/members`, admin, { address: randomAddress() }, null);
      expect(res.status).toBe(201);
      return { id: res.body.id as string, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId: coop }) };
    };
    [alice, bob] = [await member(), await member()];
    // Purchases arrive through the credit-purchase workflow; here the ledger's mint seeds the wallet.
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice.id, amount: cloud(20), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'seed' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  async function aliceAvailable(): Promise<string> {
    return (await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: alice.token })).body.available;
  }

  it('provisioning opened the chart of accounts and the V1 rate card', async () => {
    const card = await api.request('GET', `/v1/cooperatives/${coop}/rate-cards/current`, { token: alice.token });
    expect(card.status).toBe(200);
    expect(card.body).toMatchObject({
      version: 1,
      rates: {
        compute_hours: { rate: '1', infrastructureCost: '0.1' },
        transfer_gb: { rate: '0.1' },
        long_term_memory_gb_months: { rate: '0.05' },
        short_term_memory_gb_hours: { rate: '0.5' },
      },
    });
  });

  it('adds members idempotently by address, checksummed, with a normalised ENS subname', async () => {
    const address = randomAddress();
    const first = await post(`/v1/cooperatives/${coop}/members`, admin, { address: address.toLowerCase(), ensName: 'Carol.Techne.ETH' }, null);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ address, ensName: 'carol.techne.eth' });
    const again = await post(`/v1/cooperatives/${coop}/members`, admin, { address, ensName: 'carol.techne.eth' }, null);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const badChecksum = address.slice(0, 2) + address.slice(2).split('').map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    for (const body of [{ address: '0x123' }, { address: badChecksum }, { address: randomAddress(), ensName: 'techne.eth' }, { address: randomAddress(), ensName: 'bad name.techne.eth' }]) {
      const res = await post(`/v1/cooperatives/${coop}/members`, admin, body, null);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_ERROR' });
    }
    expect((await post(`/v1/cooperatives/${coop}/members`, alice.token, { address: randomAddress() }, null)).status).toBe(403);
  });

  it('transfers from the member own wallet, replays by key, refuses a reused key for another request', async () => {
    const key = randomUUID();
    const body = { toMemberId: bob.id, amount: '2.5' };
    const first = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, body, key);
    expect(first.status).toBe(201);
    expect(first.body.entries).toEqual(expect.arrayContaining([expect.objectContaining({ memberId: alice.id, amount: '2.5' }), expect.objectContaining({ memberId: bob.id, amount: '-2.5' })]));
    // Client keys are namespaced: no client can claim a key the system uses internally.
    expect(first.body.idempotencyKey).toBe(`client:${key}`);
    const replay = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, body, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const mismatch = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { ...body, amount: '3' }, key);
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(await aliceAvailable()).toBe('17.5');
  });

  it('rejects malformed amounts and hostile input with VALIDATION_ERROR and changes nothing', async () => {
    const before = await aliceAvailable();
    const cases: unknown[] = [
      { toMemberId: bob.id, amount: 1.5 },
      { toMemberId: bob.id, amount: '1.0000001' },
      { toMemberId: bob.id, amount: '-1' },
      { toMemberId: bob.id, amount: '0' },
      { toMemberId: bob.id, amount: '1e3' },
      { toMemberId: bob.id, amount: '99999999999999999999' },
      { toMemberId: 'not-a-uuid', amount: '1' },
      { toMemberId: bob.id, amount: '1', fromMemberId: alice.id, extra: 'x' },
      { toMemberId: bob.id, amount: { $gt: 0 } },
      "'; DROP TABLE entries; --",
    ];
    for (const body of cases) {
      const res = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_ERROR' });
    }
    const noKey = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1' }, null);
    expect(noKey.status).toBe(400);
    const badKey = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1' }, 'has space');
    expect(badKey.status).toBe(400);
    const tooMuch = await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1000' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('INSUFFICIENT_FUNDS');
    expect(await aliceAvailable()).toBe(before);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });

  it('lets a member see and move only their own wallet', async () => {
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: bob.token })).status).toBe(403);
    expect((await post(`/v1/cooperatives/${coop}/transfers`, bob.token, { fromMemberId: alice.id, toMemberId: bob.id, amount: '1' })).status).toBe(403);
    // A token naming a member under another cooperative does not name a member at all.
    const stranger = await api.token({ subject: alice.id, role: 'member', cooperativeId: randomUUID() });
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: stranger })).status).toBe(401);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: admin })).status).toBe(200);
  });

  it('redeems usage at the rate card in force at the usage time', async () => {
    const before = Number(await aliceAvailable());
    const res = await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'transfer_gb', quantity: '12.5' });
    expect(res.status).toBe(201);
    expect(res.body.metadata).toMatchObject({ primitive: 'transfer_gb', quantity: '12.5', rateCardVersion: 1, infrastructureCostUsd: '0.125' });
    expect(Number(await aliceAvailable())).toBeCloseTo(before - 1.25, 6);

    // A new card from tomorrow does not reprice today's usage.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const rates = { compute_hours: { rate: '2', infrastructureCost: '0.2' }, transfer_gb: { rate: '0.2', infrastructureCost: '0.02' }, long_term_memory_gb_months: { rate: '0.1', infrastructureCost: '0.01' }, short_term_memory_gb_hours: { rate: '1', infrastructureCost: '0.1' } };
    expect((await post(`/v1/cooperatives/${coop}/rate-cards`, alice.token, { effectiveFrom: tomorrow, rates })).status).toBe(403);
    const card = await post(`/v1/cooperatives/${coop}/rate-cards`, admin, { effectiveFrom: tomorrow, rates });
    expect(card.status).toBe(201);
    expect(card.body.version).toBe(2);
    const now = await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt: new Date().toISOString() });
    expect(now.body.metadata.rateCardVersion).toBe(1);
    // An operator's correction in force from an hour ago prices usage since then, and not usage before it.
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const retro = await post(`/v1/cooperatives/${coop}/rate-cards`, operator, { effectiveFrom: hourAgo, rates, retroactiveReason: 'the card published this morning had the wrong rates' });
    expect(retro.body.version).toBe(3);
    const since = await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt: new Date().toISOString() });
    expect(since.body.metadata).toMatchObject({ rateCardVersion: 3, rate: '2' });
    const earlier = await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt: new Date(Date.now() - 2 * 3_600_000).toISOString() });
    expect(earlier.body.metadata).toMatchObject({ rateCardVersion: 1, rate: '1' });
    // An infrastructure cost of zero is a valid card, and usage under it is still charged.
    const free = { ...rates, compute_hours: { rate: '3', infrastructureCost: '0' } };
    const halfHourAgo = new Date(Date.now() - 1_800_000).toISOString();
    expect((await post(`/v1/cooperatives/${coop}/rate-cards`, operator, { effectiveFrom: halfHourAgo, rates: free, retroactiveReason: 'compute is donated this month' })).status).toBe(201);
    const zeroCost = await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1' });
    expect(zeroCost.status).toBe(201);
    expect(zeroCost.body.metadata).toMatchObject({ rateCardVersion: 4, rate: '3', infrastructureCostUsd: '0' });
    expect((await post(`/v1/cooperatives/${coop}/usage`, alice.token, { memberId: alice.id, primitive: 'compute_hours', quantity: '1' })).status).toBe(403);
  });

  it('reserves, finalizes and releases holds, each at most once', async () => {
    const before = Number(await aliceAvailable());
    const holdKey = randomUUID();
    const hold = await post(`/v1/cooperatives/${coop}/holds`, service, { memberId: alice.id, amount: '3', ttlSeconds: 600 }, holdKey);
    expect(hold.status).toBe(201);
    const retried = await post(`/v1/cooperatives/${coop}/holds`, service, { memberId: alice.id, amount: '3', ttlSeconds: 600 }, holdKey);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(hold.body);
    expect(Number(await aliceAvailable())).toBeCloseTo(before - 3, 6);
    const finalized = await post(`/v1/cooperatives/${coop}/holds/${hold.body.id}/finalize`, service, { amount: '1.2' });
    expect(finalized.body).toMatchObject({ status: 'finalized', finalAmount: '1.2' });
    expect(Number(await aliceAvailable())).toBeCloseTo(before - 1.2, 6);
    const again = await post(`/v1/cooperatives/${coop}/holds/${hold.body.id}/release`, service, {});
    expect(again.status).toBe(409);
    const over = await post(`/v1/cooperatives/${coop}/holds`, service, { memberId: alice.id, amount: '1', ttlSeconds: 600 });
    expect((await post(`/v1/cooperatives/${coop}/holds/${over.body.id}/finalize`, service, { amount: '1.5' })).status).toBe(400);
    expect((await post(`/v1/cooperatives/${coop}/holds/${over.body.id}/release`, service, {})).body.status).toBe('released');
    expect(Number(await aliceAvailable())).toBeCloseTo(before - 1.2, 6);
  });

  it('pages through a member history by cursor, newest first, each transaction once', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/transactions${query}`, { token: alice.token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.items.map((t: { id: string }) => t.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/transactions?limit=100`, { token: alice.token });
    expect(ids).toEqual(all.body.items.map((t: { id: string }) => t.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(6);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/transactions?cursor=garbage`, { token: alice.token })).status).toBe(400);
  });

  it('lets operators run the integrity report', async () => {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const report = await api.request('GET', `/v1/operations/ledger-integrity?cooperativeId=${coop}`, { token: operator });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ clean: true, findings: [] });
    expect(report.body.checks).toEqual([...ledger.INTEGRITY_CHECKS]);
    expect(report.body.checks).toEqual(expect.arrayContaining(['wallet_equals_lots', 'lot_parts_add_up', 'no_open_hold_past_expiry']));
    expect((await api.request('GET', '/v1/operations/ledger-integrity', { token: admin })).status).toBe(403);
    // An operator bound to a cooperative sees that cooperative only.
    const bound = await api.token({ subject: 'op-2', role: 'operator', cooperativeId: coop });
    expect((await api.request('GET', '/v1/operations/ledger-integrity', { token: bound })).status).toBe(200);
    expect((await api.request('GET', `/v1/operations/ledger-integrity?cooperativeId=${randomUUID()}`, { token: bound })).status).toBe(403);
  });
});
