import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { freePort } from '../../scripts/ports';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * Temporal away: the API starts all the same (it connects to Temporal on first use), says it is not
 * ready, keeps serving what needs no workflow, and answers what does with 503 and Retry-After, never
 * 500; a retry under the same key records no second purchase.
 */
describe('the API while Temporal is unreachable', () => {
  let api: TestApi;
  let coop: string;
  let alice: string;
  let bob: string;
  let token: string;

  beforeAll(async () => {
    // A port nothing listens on: the API's Temporal is not there at start, nor after.
    api = await startTestApi({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }, { workflowWaitMs: 2_000, lazyTemporal: true });
    coop = await provisionCooperative(api.pool);
    [alice, bob] = [await addMember(api.pool, coop), await addMember(api.pool, coop)];
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: `seed-${alice}`, idempotencyKey: `seed-${alice}` });
    token = await api.token({ subject: alice, role: 'member', cooperativeId: coop });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('reports Temporal failing in its readiness, the database ready', async () => {
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres).toBe('ok');
    expect(ready.body.checks.temporal).toMatch(/^failing/);
  });

  it('serves the ledger, which needs no workflow', async () => {
    const transfer = await api.request('POST', `/v1/cooperatives/${coop}/transfers`, { token, body: { toMemberId: bob, amount: '2' }, headers: { 'idempotency-key': randomUUID() } });
    expect(transfer.status).toBe(201);
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${alice}/balance`, { token });
    expect(balance.status).toBe(200);
    expect(balance.body.available).toBe('8');
  });

  it('answers a purchase with 503 and Retry-After, and a retry under its key records no second purchase', async () => {
    const key = randomUUID();
    for (let attempt = 0; attempt < 2; attempt++) {
      const bought = await api.request('POST', '/v1/credit-purchases', { token, body: { pack: 'starter' }, headers: { 'idempotency-key': key } });
      expect(bought.status).toBe(503);
      expect(bought.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(bought.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const { rows } = await api.pool.query('SELECT status FROM credit_purchases WHERE cooperative_id = $1 AND member_id = $2', [coop, alice]);
    expect(rows).toEqual([{ status: 'creating_payment' }]);
  });
});
