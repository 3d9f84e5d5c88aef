import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/** Metering services report usage in batches: POST /v1/cooperatives/:id/usage/batch. */
describe('batched usage over HTTP', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  let service: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  const batchPath = () => `/v1/cooperatives/${coop}/usage/batch`;
  const batch = (token: string, records: unknown[]) => api.request('POST', batchPath(), { token, body: { records } });
  const available = async (m: { id: string }) => (await api.request('GET', `/v1/cooperatives/${coop}/members/${m.id}/balance`, { token: admin })).body.available as string;

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `usage-${randomUUID().slice(0, 8)}`, name: 'Usage Coop' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
    admin = await api.token({ subject: 'admin-1', role: 'coop_admin', cooperativeId: coop });
    service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
    const member = async () => {
      const res = await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } });
      expect(res.status).toBe(201);
      return { id: res.body.id as string, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId: coop }) };
    };
    [alice, bob] = [await member(), await member()];
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice.id, amount: cloud(50), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'seed-a' });
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: bob.id, amount: cloud(2), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'seed-b' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('redeems each record, replays a repeated batch record by record, and reports failures per record', async () => {
    const records = [
      { idempotencyKey: 'u-1', memberId: alice.id, primitive: 'compute_hours', quantity: '1.5' },
      { idempotencyKey: 'u-2', memberId: bob.id, primitive: 'compute_hours', quantity: '1.5' },
      { idempotencyKey: 'u-3', memberId: bob.id, primitive: 'compute_hours', quantity: '1' }, // bob has 0.5 left
      { idempotencyKey: 'u-4', memberId: randomUUID(), primitive: 'transfer_gb', quantity: '1' },
      { idempotencyKey: 'u-5', memberId: alice.id, primitive: 'transfer_gb', quantity: '2', usageAt: new Date(Date.now() - 60_000).toISOString() },
    ];
    const first = await batch(service, records);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ redeemed: 3, replayed: 0, failed: 2 });
    expect(first.body.results).toMatchObject([
      { index: 0, idempotencyKey: 'client:u-1', status: 201, replayed: false, amount: '1.5', rateCardVersion: 1 },
      { index: 1, status: 201, amount: '1.5' },
      { index: 2, status: 422, error: { code: 'INSUFFICIENT_FUNDS' } },
      { index: 3, status: 404, error: { code: 'NOT_FOUND' } },
      { index: 4, status: 201, amount: '0.2' },
    ]);
    expect(await available(alice)).toBe('48.3');
    expect(await available(bob)).toBe('0.5');

    // The same batch again, one record's key reused for another quantity: replays, the conflict on its own.
    const again = await batch(service, [...records.slice(0, 2), { ...records[4], quantity: '3' }]);
    expect(again.status).toBe(200);
    expect(again.body.results).toMatchObject([
      { status: 200, replayed: true, transactionId: first.body.results[0].transactionId, amount: '1.5', createdAt: first.body.results[0].createdAt },
      { status: 200, replayed: true, transactionId: first.body.results[1].transactionId },
      { status: 422, error: { code: 'IDEMPOTENCY_MISMATCH' } },
    ]);
    expect(await available(alice)).toBe('48.3');
  });

  it('shares keys with the single usage route, scoped to the caller', async () => {
    const body = { memberId: alice.id, primitive: 'compute_hours', quantity: '0.25' };
    const single = await api.request('POST', `/v1/cooperatives/${coop}/usage`, { token: service, body, headers: { 'idempotency-key': 'shared-1' } });
    expect(single.status).toBe(201);
    const viaBatch = await batch(service, [{ ...body, idempotencyKey: 'shared-1' }]);
    expect(viaBatch.body.results[0]).toMatchObject({ status: 200, replayed: true, transactionId: single.body.id });
    // Another principal's key of the same name is its own.
    const other = await batch(admin, [{ ...body, idempotencyKey: 'shared-1' }]);
    expect(other.body.results[0]).toMatchObject({ status: 201, replayed: false });
    expect(other.body.results[0].transactionId).not.toBe(single.body.id);
  });

  it('takes a full batch of 1,000 records and refuses 1,001 with a clear error', async () => {
    const record = (i: number) => ({ idempotencyKey: `full-${i}-${'k'.repeat(200)}`, memberId: alice.id, primitive: 'transfer_gb', quantity: '0.01' });
    const full = await batch(service, Array.from({ length: 1_000 }, (_, i) => record(i)));
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ redeemed: 1_000, failed: 0 });
    expect(full.body.results).toHaveLength(1_000);
    const tooMany = await batch(service, Array.from({ length: 1_001 }, (_, i) => record(i)));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'body.records', message: 'a batch holds at most 1000 usage records' }] });
    const empty = await batch(service, []);
    expect(empty.status).toBe(400);
  });

  it('refuses a malformed record with the path to it, and nothing of the batch is written', async () => {
    const before = await available(alice);
    const cases: Array<[unknown, string]> = [
      [{ idempotencyKey: 'm-1', memberId: alice.id, primitive: 'compute_hours', quantity: '-1' }, 'body.records.1.quantity'],
      [{ idempotencyKey: 'm-1', memberId: alice.id, primitive: 'gpu_hours', quantity: '1' }, 'body.records.1.primitive'],
      [{ memberId: alice.id, primitive: 'compute_hours', quantity: '1' }, 'body.records.1.idempotencyKey'],
      [{ idempotencyKey: 'has space', memberId: alice.id, primitive: 'compute_hours', quantity: '1' }, 'body.records.1.idempotencyKey'],
      [{ idempotencyKey: 'm-1', memberId: alice.id, primitive: 'compute_hours', quantity: '1', extra: true }, 'body.records.1'],
      [{ idempotencyKey: 'm-1', memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt: 'yesterday' }, 'body.records.1.usageAt'],
    ];
    for (const [bad, path] of cases) {
      const res = await batch(service, [{ idempotencyKey: 'm-0', memberId: alice.id, primitive: 'compute_hours', quantity: '1' }, bad]);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    // A record the contract accepts but the ledger refuses (usage in the future) fails alone.
    const future = await batch(service, [
      { idempotencyKey: 'f-1', memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt: new Date(Date.now() + 3_600_000).toISOString() },
      { idempotencyKey: 'f-2', memberId: alice.id, primitive: 'compute_hours', quantity: '1' },
    ]);
    expect(future.body.results.map((r: { status: number }) => r.status)).toEqual([400, 201]);
    expect(await available(alice)).toBe((Number(before) - 1).toString());
  });

  it('authorises as the single usage route: services and admins of the cooperative, never members', async () => {
    const records = [{ idempotencyKey: 'a-1', memberId: alice.id, primitive: 'compute_hours', quantity: '1' }];
    expect((await batch(alice.token, records)).status).toBe(403);
    // An admin of this cooperative, on another's.
    expect((await api.request('POST', `/v1/cooperatives/${randomUUID()}/usage/batch`, { token: admin, body: { records } })).status).toBe(403);
    expect((await api.request('POST', batchPath(), { body: { records } })).status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const doc = await api.request('GET', '/openapi.json');
    expect(doc.body.paths['/v1/cooperatives/{cooperativeId}/usage/batch'].post.requestBody).toBeDefined();
    expect(doc.body.components.schemas.UsageBatch).toBeDefined();
  });
});
