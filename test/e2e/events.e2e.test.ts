import { randomUUID } from 'node:crypto';
import { mint } from '../../db/ledger';
import { eventually } from '../harness/eventually';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * The events API, for clients that poll instead of receiving webhooks: the same events in the same
 * order and shape, page by page, with a cursor that keeps its place at the end of the stream.
 */
describe('events API', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let service: string;
  let members: string[];

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `events-${randomUUID().slice(0, 8)}`, name: 'Events' } })).body.id;
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    members = [];
    for (let i = 0; i < 3; i++) members.push((await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id);
    service = await api.token({ subject: 'reader', role: 'service', cooperativeId: coop });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  const page = (query: string, token = service) => api.request('GET', `/v1/cooperatives/${coop}/events${query}`, { token });

  async function readAll(after: string | null, limit: number, type?: string) {
    const items: Array<{ id: string; type: string; sequence: string }> = [];
    let cursor = after;
    for (;;) {
      const res = await page(`?limit=${limit}${cursor ? `&after=${cursor}` : ''}${type ? `&type=${type}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!res.body.hasMore) return { items, cursor };
    }
  }
  const outbox = async () => (await api.pool.query('SELECT event_id FROM outbox WHERE cooperative_id = $1 ORDER BY xid, id', [coop])).rows.map((r) => r.event_id as string);
  const seed = (memberId: string) => mint(api.pool, { cooperativeId: coop, memberId, amount: cloud(5), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });

  it('pages through every event in delivery order, and the cursor keeps its place at the end', async () => {
    for (const m of members) await seed(m);
    for (let i = 0; i < 4; i++) {
      const res = await api.request('POST', `/v1/cooperatives/${coop}/transfers`, { token: service, body: { fromMemberId: members[i % 3], toMemberId: members[(i + 1) % 3], amount: '0.5' }, headers: { 'idempotency-key': randomUUID() } });
      expect(res.status).toBe(201);
    }
    const expected = await outbox();
    const all = await eventually(() => readAll(null, 3), (r) => r.items.length === expected.length);
    expect(all.items.map((e) => e.id)).toEqual(expected);
    expect(all.items[0]).toEqual({ id: expected[0], type: 'rate_card.created', cooperativeId: coop, aggregateId: expect.any(String), sequence: expect.stringMatching(/^\d+$/), createdAt: expect.any(String), data: expect.any(Object) });
    expect(all.cursor).toEqual(expect.any(String));

    const atEnd = await page(`?after=${all.cursor}`);
    expect(atEnd.body).toEqual({ items: [], nextCursor: all.cursor, hasMore: false });
    await seed(members[0]!);
    const next = await eventually(() => readAll(all.cursor, 3), (r) => r.items.length === 1);
    expect(next.items.map((e) => [e.id, e.type])).toEqual([[(await outbox()).at(-1), 'cloud.minted']]);
  });

  it('filters by type', async () => {
    const transfers = await readAll(null, 2, 'cloud.transferred');
    expect(transfers.items.length).toBeGreaterThanOrEqual(4);
    expect(new Set(transfers.items.map((e) => e.type))).toEqual(new Set(['cloud.transferred']));
  });

  it('is for admins, services and operators of the cooperative, and refuses what it did not make', async () => {
    const member = await api.token({ subject: members[0]!, role: 'member', cooperativeId: coop });
    const stranger = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: randomUUID() });
    expect((await page('', member)).status).toBe(403);
    expect([401, 403]).toContain((await page('', stranger)).status);
    expect((await page('', await api.token({ subject: 'op', role: 'operator' }))).status).toBe(200);
    expect((await page('', await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop }))).status).toBe(200);
    for (const query of ['?after=nope', `?after=${Buffer.from('["1"]').toString('base64url')}`, '?limit=0', '?limit=501', '?type=cloud.nope', '?other=1']) {
      const res = await page(query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_ERROR' });
    }
  });
});
