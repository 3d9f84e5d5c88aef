import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Budgets per principal and per address, counted in PostgreSQL: two API processes (two apps with their
 * own pools here) share one budget. Small budgets stand in for the seeds' 100/50/30/200 per minute.
 */
describe('rate limits', () => {
  // An hour-long window, so that no window ends in the middle of a test.
  const budgets = { RATE_LIMIT_WINDOW_SECONDS: '3600', RATE_LIMIT_PUBLIC: '5', RATE_LIMIT_MEMBER_QUERIES: '6', RATE_LIMIT_MEMBER_MUTATIONS: '3', RATE_LIMIT_ADMIN: '4', RATE_LIMIT_SERVICE: '8' };
  let setup: TestApi;
  let worker: TestWorker;
  let one: TestApi;
  let two: TestApi;
  let coop: string;
  let member: string;
  let token: string;

  beforeAll(async () => {
    [setup, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await setup.token({ subject: 'op', role: 'operator' });
    coop = (await setup.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `limits-${randomUUID().slice(0, 8)}`, name: 'Limits' } })).body.id;
    const admin = await setup.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    member = (await setup.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
    token = await setup.token({ subject: member, role: 'member', cooperativeId: coop });
    [one, two] = await Promise.all([startTestApi(budgets), startTestApi(budgets)]);
  });
  afterAll(async () => {
    await Promise.all([setup?.close(), worker?.stop(), one?.close(), two?.close()]);
  });

  it('holds a member to its query budget across two API processes, with Retry-After and RateLimit headers', async () => {
    const balance = `/v1/cooperatives/${coop}/members/${member}/balance`;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await (i % 2 ? one : two).request('GET', balance, { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    const limited = await one.request('GET', balance, { token });
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    expect(limited.headers.get('ratelimit-policy')).toMatch(/q=6/);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);
    // Mutations have their own, smaller budget, still open.
    const transfer = await one.request('POST', `/v1/cooperatives/${coop}/transfers`, { token, body: { toMemberId: randomUUID(), amount: '1' }, headers: { 'idempotency-key': randomUUID() } });
    expect(transfer.status).not.toBe(429);
  });

  it('counts a burst exactly: of concurrent requests to two processes, the budget passes and the rest are refused', async () => {
    const burster = (await setup.request('POST', `/v1/cooperatives/${coop}/members`, { token: await setup.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop }), body: { address: randomAddress() } })).body.id;
    const burstToken = await setup.token({ subject: burster, role: 'member', cooperativeId: coop });
    const balance = `/v1/cooperatives/${coop}/members/${burster}/balance`;
    const answers = await Promise.all(Array.from({ length: 20 }, (_v, i) => (i % 2 ? one : two).request('GET', balance, { token: burstToken })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(6).fill(200), ...Array(14).fill(429)]);
    // Each answer that passed had its own place in the budget.
    expect(answers.filter((a) => a.status === 200).map((a) => a.headers.get('ratelimit')?.match(/r=(\d+)/)?.[1]).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('keeps principals apart: another service still has its budget', async () => {
    const services = await Promise.all(['metering', 'billing'].map((subject) => one.token({ subject, role: 'service', cooperativeId: coop })));
    const rateCard = `/v1/cooperatives/${coop}/rate-cards/current`;
    for (let i = 0; i < 8; i++) expect((await one.request('GET', rateCard, { token: services[0] })).status).toBe(200);
    expect((await two.request('GET', rateCard, { token: services[0] })).status).toBe(429);
    expect((await two.request('GET', rateCard, { token: services[1] })).status).toBe(200);
  });

  it('limits requests without valid credentials by address, bad tokens included', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await (i % 2 ? one : two).request('GET', '/openapi.json', { headers: { authorization: i > 2 ? 'Bearer not.a.token' : '' } })).status);
    // Other test files send requests from the same address in the same window, so the budget may already
    // be partly spent: at least the last two are refused, and once refused, always refused.
    const first = statuses.indexOf(429);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(5);
    expect(statuses.slice(first).every((s) => s === 429)).toBe(true);
    // Liveness and readiness stay answerable for orchestrators.
    expect((await one.request('GET', '/healthz')).status).toBe(200);
    // A payment provider's webhook from the same address draws on a budget of its own: a process with the
    // same spent public budget (and a webhook budget other files' webhooks from this address cannot spend) takes it.
    const webhooks = await startTestApi({ ...budgets, RATE_LIMIT_SERVICE: '1000000' });
    try {
      expect((await webhooks.request('GET', '/openapi.json')).status).toBe(429);
      const payload = JSON.stringify({ id: `evt_limits_${randomUUID()}`, object: 'event', type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } });
      const signature = new Stripe('sk_test_limits').webhooks.generateTestHeaderString({ payload, secret: webhooks.config.stripe.webhookSecret });
      expect((await webhooks.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': signature } })).status).toBe(200);
    } finally {
      await webhooks.close();
    }
  });
});
