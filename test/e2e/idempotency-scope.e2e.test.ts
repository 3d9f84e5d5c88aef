import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/** Idempotency keys belong to the principal that sent them, as Stripe scopes keys to the caller. */
describe('idempotency keys are scoped to the principal', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  const members: Array<{ id: string; token: string }> = [];

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `keys-${randomUUID().slice(0, 8)}`, name: 'Keys' } })).body.id;
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    for (let i = 0; i < 3; i++) {
      const id = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
      members.push({ id, token: await api.token({ subject: id, role: 'member', cooperativeId: coop }) });
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: id, amount: cloud(10), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `seed-${i}` });
    }
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  const post = (path: string, token: string, body: unknown, key: string) => api.request('POST', path, { token, body, headers: { 'idempotency-key': key } });

  it('gives two members who send the same key two independent purchases, each replayed to its own sender', async () => {
    const [alice, bob] = members;
    const a = await post('/v1/credit-purchases', alice!.token, { pack: 'starter' }, 'buy-0001');
    const b = await post('/v1/credit-purchases', bob!.token, { pack: 'starter' }, 'buy-0001');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect([a.body.memberId, b.body.memberId]).toEqual([alice!.id, bob!.id]);
    const againA = await post('/v1/credit-purchases', alice!.token, { pack: 'starter' }, 'buy-0001');
    const againB = await post('/v1/credit-purchases', bob!.token, { pack: 'starter' }, 'buy-0001');
    expect([againA.status, againA.body.id, againB.status, againB.body.id]).toEqual([200, a.body.id, 200, b.body.id]);
  });

  it('gives two members who send the same key two transfers, and refuses a key reused for another request by its own sender', async () => {
    const [alice, bob, carol] = members;
    const key = `t-${randomUUID()}`;
    const fromAlice = await post(`/v1/cooperatives/${coop}/transfers`, alice!.token, { toMemberId: carol!.id, amount: '1' }, key);
    const fromBob = await post(`/v1/cooperatives/${coop}/transfers`, bob!.token, { toMemberId: carol!.id, amount: '2' }, key);
    expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
    expect(fromAlice.body.id).not.toBe(fromBob.body.id);
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${carol!.id}/balance`, { token: carol!.token });
    expect(balance.body.available).toBe('13');
    const mismatch = await post(`/v1/cooperatives/${coop}/transfers`, alice!.token, { toMemberId: carol!.id, amount: '5' }, key);
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    // The client sees its own key, not the scope it is stored under.
    expect(mismatch.body.error.message).toContain(`'client:${key}'`);
    expect(mismatch.body.error.message).not.toContain(alice!.id);
    expect(fromAlice.body.idempotencyKey).toBe(`client:${key}`);
  });

  it('keeps two services apart, and replays concurrent identical requests of one service once', async () => {
    const [alice] = members;
    const [metering, billing] = await Promise.all([
      api.token({ subject: 'metering', role: 'service', cooperativeId: coop }),
      api.token({ subject: 'billing', role: 'service', cooperativeId: coop }),
    ]);
    const body = { memberId: alice!.id, primitive: 'compute_hours', quantity: '0.5' };
    const key = `u-${randomUUID()}`;
    const burst = await Promise.all(Array.from({ length: 8 }, () => post(`/v1/cooperatives/${coop}/usage`, metering, body, key)));
    expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
    const other = await post(`/v1/cooperatives/${coop}/usage`, billing, body, key);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(burst[0]!.body.id);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });
});
