import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Every class of hostile or careless input that once answered 500: each now answers 4xx in the
 * documented error shape, and nothing it sent changes the ledger or the records.
 */
describe('hostile input', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let operator: string;
  let admin: string;
  let service: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `hostile-${randomUUID().slice(0, 8)}`, name: 'Hostile' } })).body.id;
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
    const member = async () => {
      const id = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
      return { id, token: await api.token({ subject: id, role: 'member', cooperativeId: coop }) };
    };
    [alice, bob] = [await member(), await member()];
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice.id, amount: cloud(10), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'seed' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  /** Counts of everything a rejected request could have written (Stripe events: this file's own ids, as other files send theirs meanwhile). */
  async function footprint() {
    const { rows } = await api.pool.query(
      `SELECT (SELECT count(*) FROM transactions WHERE cooperative_id = $1)::int AS transactions, (SELECT count(*) FROM members WHERE cooperative_id = $1)::int AS members,
              (SELECT count(*) FROM rate_cards WHERE cooperative_id = $1)::int AS rate_cards, (SELECT count(*) FROM stripe_events WHERE id LIKE 'evt\_hostile%')::int AS stripe_events,
              (SELECT count(*) FROM proposals WHERE origin_cooperative_id = $1)::int AS proposals, (SELECT count(*) FROM outbox WHERE cooperative_id = $1)::int AS outbox`,
      [coop],
    );
    return rows[0];
  }

  function expectRefused(res: { status: number; body: any }, status = 400) {
    expect({ status: res.status, code: typeof res.body?.error?.code }).toEqual({ status, code: 'string' });
    expect(res.body.error.requestId).toBeTruthy();
  }

  it('answers malformed percent-encoding in any path with 400, with or without a token', async () => {
    const before = await footprint();
    for (const bad of ['%ff', '%E0%A4%A', '%', '%%', '%u0041']) {
      for (const path of [`/v1/cooperatives/${bad}`, `/v1/cooperatives/${coop}/members/${bad}/balance`, `/v1/proposals/${bad}/votes`, `/v1/credit-purchases/${bad}`]) {
        expectRefused(await fetch(api.url + path).then(async (r) => ({ status: r.status, body: await r.json() })));
        const res = await fetch(api.url + path, { method: path.endsWith('votes') ? 'POST' : 'GET', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body: path.endsWith('votes') ? '{}' : undefined });
        expect(res.status).toBeLessThan(500);
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it('answers a body declared gzip, deflate or br that is not with 400', async () => {
    const before = await footprint();
    for (const encoding of ['gzip', 'deflate', 'br', 'compress', 'gzip, br']) {
      const res = await fetch(`${api.url}/v1/cooperatives/${coop}/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', 'content-encoding': encoding, 'idempotency-key': randomUUID() },
        body: JSON.stringify({ toMemberId: bob.id, amount: '1' }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await footprint()).toEqual(before);
  });

  it('answers an operator naming a cooperative that does not exist with 404', async () => {
    const nowhere = randomUUID();
    const rate = { rate: '1', infrastructureCost: '0.1' };
    const attempts = await Promise.all([
      api.request('POST', `/v1/cooperatives/${nowhere}/members`, { token: operator, body: { address: randomAddress() } }),
      api.request('POST', `/v1/cooperatives/${nowhere}/rate-cards`, { token: operator, body: { effectiveFrom: new Date(Date.now() + 60_000).toISOString(), rates: { compute_hours: rate, transfer_gb: rate, long_term_memory_gb_months: rate, short_term_memory_gb_hours: rate } }, headers: { 'idempotency-key': randomUUID() } }),
      api.request('GET', `/v1/cooperatives/${nowhere}/rate-cards/current`, { token: operator }),
      api.request('PUT', `/v1/cooperatives/${nowhere}/staking-terms`, { token: operator, body: { terms: [{ days: 30, multiplierBasisPoints: 10_000, autoRelease: true }] } }),
      api.request('POST', `/v1/cooperatives/${nowhere}/campaigns`, { token: operator, body: { name: 'None', budget: '1', perWalletCap: '1', grantExpiryDays: 1 }, headers: { 'idempotency-key': randomUUID() } }),
      api.request('POST', `/v1/cooperatives/${nowhere}/corrections`, { token: operator, body: { transactionId: randomUUID(), reason: 'none' }, headers: { 'idempotency-key': randomUUID() } }),
      api.request('POST', `/v1/cooperatives/${nowhere}/burns`, { token: operator, body: { memberId: randomUUID(), amount: '1', reason: 'none' }, headers: { 'idempotency-key': randomUUID() } }),
    ]);
    expect(attempts.map((r) => [r.status, r.body.error?.code])).toEqual(Array(7).fill([404, 'NOT_FOUND']));
  });

  it('gives concurrent identical delegations one result, never a 500', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => api.request('POST', '/v1/delegations', { token: alice.token, body: { delegateMemberId: bob.id } })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const { rows } = await api.pool.query('SELECT delegate FROM delegations WHERE delegator = $1', [alice.id]);
    expect(rows).toEqual([{ delegate: bob.id }]);
    await api.request('DELETE', '/v1/delegations', { token: alice.token });
  });

  it('refuses forged history cursors with 400', async () => {
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [cursor(['9223372036854775808', randomUUID()]), cursor(['9999999999999999999', randomUUID()]), cursor(['1', '------------------------------------']), cursor(['1', 'x']), cursor({}), cursor([1]), 'not-base64!', cursor(['-1', randomUUID()])]) {
      const res = await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/transactions?cursor=${encodeURIComponent(bad)}`, { token: alice.token });
      expectRefused(res);
    }
  });

  it('refuses forged cursors of the event feeds and time-ordered lists with 400: numbers beyond their SQL type, instants spelled otherwise', async () => {
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [cursor(['99999999999999999999', '1']), cursor(['1', '99999999999999999999']), cursor(['1', '9223372036854775808'])]) {
      expectRefused(await api.request('GET', `/v1/cooperatives/${coop}/events?after=${bad}`, { token: admin }));
    }
    expectRefused(await api.request('GET', `/v1/events?cursor=${cursor(['9999999999999999999'])}`, { token: operator }));
    for (const at of ['2020-01-01T00:00:00+20:00', '2020-01-01', 'Jan 1 2020']) {
      expectRefused(await api.request('GET', `/v1/operations/reconciliations?cursor=${cursor([at, randomUUID()])}`, { token: operator }));
    }
  });

  it('takes ids in any letter case as the same id: a member in upper case is found, and cannot delegate to themselves', async () => {
    const upper = alice.id.toUpperCase();
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${upper}/balance`, { token: alice.token });
    expect(balance.status).toBe(200);
    expect(balance.body.memberId).toBe(alice.id);
    const transfer = await api.request('POST', `/v1/cooperatives/${coop.toUpperCase()}/transfers`, { token: alice.token, body: { toMemberId: bob.id.toUpperCase(), amount: '0.01' }, headers: { 'idempotency-key': randomUUID() } });
    expect(transfer.status).toBe(201);
    const before = await footprint();
    const self = await api.request('POST', '/v1/delegations', { token: alice.token, body: { delegateMemberId: upper } });
    expectRefused(self);
    expect(self.body.error.code).toBe('VALIDATION_ERROR');
    expect(await footprint()).toEqual(before);
  });

  it('refuses a body that is not JSON with 415 (it was read as an empty one), changing nothing; no body at all is an empty one', async () => {
    const before = await footprint();
    const hold = await api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, body: { memberId: alice.id, amount: '1', ttlSeconds: 60 }, headers: { 'idempotency-key': randomUUID() } });
    expect(hold.status).toBe(201);
    const held = await footprint();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      // Refused for what it is, not as a finalize without its amount.
      const res = await fetch(`${api.url}/v1/cooperatives/${coop}/holds/${hold.body.id}/finalize`, { method: 'POST', headers: { authorization: `Bearer ${service}`, 'content-type': type }, body: 'amount=1' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await api.request('GET', `/v1/cooperatives/${coop}/holds/${hold.body.id}`, { token: service })).body.status).toBe('open');
    expect(await footprint()).toEqual(held);
    const transfer = await fetch(`${api.url}/v1/cooperatives/${coop}/transfers`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'text/plain', 'idempotency-key': randomUUID() }, body: JSON.stringify({ toMemberId: bob.id, amount: '1' }) });
    expect(transfer.status).toBe(415);
    expect((await footprint()).transactions).toBe(before.transactions);
    // Without a body (fetch sends Content-Length: 0 and no type) the body is an empty one: checked by the route's schema, not refused as another type.
    const bodyless = (action: string) => fetch(`${api.url}/v1/cooperatives/${coop}/holds/${hold.body.id}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${service}` } });
    const finalize = await bodyless('finalize');
    expect({ status: finalize.status, code: ((await finalize.json()) as { error: { code: string } }).error.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    const released = await bodyless('release');
    expect(released.status).toBe(200);
    expect(((await released.json()) as { status: string }).status).toBe('released');
  });

  it("answers a request line and headers over Node's limit in the error shape, with a request id", async () => {
    for (const [path, authorization] of [[`/v1/cooperatives/${coop}/holds?x=${'a'.repeat(30_000)}`, `Bearer ${admin}`], [`/v1/cooperatives/${coop}/holds`, `Bearer ${'x'.repeat(20_000)}`]]) {
      const res = await fetch(api.url + path!, { headers: { authorization: authorization! } });
      expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status: 431, type: 'application/json; charset=utf-8' });
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      expect(body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', requestId: res.headers.get('x-request-id') });
    }
    // The server goes on answering.
    expect((await api.request('GET', `/v1/cooperatives/${coop}/holds`, { token: admin })).status).toBe(200);
  });

  it('refuses NUL bytes, lone surrogates and display text that hides or reorders characters, changing nothing', async () => {
    const before = await footprint();
    const post = (path: string, token: string, body: unknown) => api.request('POST', path, { token, body, headers: { 'idempotency-key': randomUUID() } });
    for (const text of ['a\u0000b', 'a\ud800b', 'line\r\nforged', 'evil\u202Egnp.exe', 'zero\u200Bwidth', 'in\uFEFFside', 'tab\there']) {
      expectRefused(await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1', memo: text }));
      expectRefused(await post(`/v1/cooperatives/${coop}/members`, admin, { address: randomAddress(), displayName: text }));
      expectRefused(await post('/v1/proposals', alice.token, { title: text }));
    }
    for (const id of ['d\u0000', 'd\ud800', 'with space', '']) expectRefused(await post('/v1/revenue-distributions', service, { distributionId: id, amount: '1' }));
    // Keys and values of any body are checked before any schema runs.
    expectRefused(await post(`/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1', 'k\u0000': 1 }));
    expect(await footprint()).toEqual(before);
  });

  it('refuses a date-time PostgreSQL cannot hold (year 0) with a 4xx, never a 500, changing nothing', async () => {
    const before = await footprint();
    const year0 = '0000-01-01T00:00:00Z';
    expectRefused(await api.request('GET', `/v1/cooperatives?createdBefore=${year0}`, { token: operator }));
    // An offset ISO 8601 allows and PostgreSQL does not (beyond ±15:59).
    expectRefused(await api.request('GET', `/v1/cooperatives/${coop}/members?createdFrom=${encodeURIComponent('2024-01-01T00:00:00+20:00')}`, { token: admin }));
    expectRefused(await api.request('GET', `/v1/cooperatives/${coop}/holds?createdBefore=${encodeURIComponent('2024-01-01T00:00:00-23:00')}`, { token: admin }));
    expectRefused(await api.request('GET', `/v1/cooperatives/${coop}/members?createdFrom=${year0}`, { token: admin }));
    // Filters compared in the database answer 400; elsewhere the value may be refused earlier or match nothing, never a 500.
    expect((await api.request('GET', `/v1/proposals?createdBefore=${year0}`, { token: alice.token })).status).toBeLessThan(500);
    const usage = await api.request('POST', `/v1/cooperatives/${coop}/usage`, { token: service, body: { memberId: alice.id, primitive: 'transfer_gb', quantity: '1', usageAt: year0 }, headers: { 'idempotency-key': randomUUID() } });
    expect(usage.status).toBeGreaterThanOrEqual(400);
    expect(usage.status).toBeLessThan(500);
    expect(await footprint()).toEqual(before);
  });

  it('bounds the times clients supply: usage not in the future, rate cards not retroactive unless an operator says why', async () => {
    const before = await footprint();
    const post = (path: string, token: string, body: unknown) => api.request('POST', path, { token, body, headers: { 'idempotency-key': randomUUID() } });
    for (const usageAt of ['9999-12-31T23:59:59Z', new Date(Date.now() + 3_600_000).toISOString(), '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
      expectRefused(await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1', usageAt }));
    }
    const rate = { rate: '1', infrastructureCost: '0.1' };
    const rates = { compute_hours: rate, transfer_gb: rate, long_term_memory_gb_months: rate, short_term_memory_gb_hours: rate };
    for (const effectiveFrom of ['0000-01-01T00:00:00Z', '9999-01-01T00:00:00Z', new Date(Date.now() - 86_400_000).toISOString()]) {
      expectRefused(await post(`/v1/cooperatives/${coop}/rate-cards`, admin, { effectiveFrom, rates }));
    }
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    expectRefused(await post(`/v1/cooperatives/${coop}/rate-cards`, admin, { effectiveFrom: yesterday, rates, retroactiveReason: 'admins may not' }), 403);
    expect(await footprint()).toEqual(before);
    const retro = await post(`/v1/cooperatives/${coop}/rate-cards`, operator, { effectiveFrom: yesterday, rates, retroactiveReason: 'the published card had a typo' });
    expect(retro.status).toBe(201);
    const { rows } = await api.pool.query('SELECT retroactive_reason FROM rate_cards WHERE id = $1', [retro.body.id]);
    expect(rows).toEqual([{ retroactive_reason: 'the published card had a typo' }]);
  });

  it('refuses with 400 what is signed but not a Stripe event at all, recording nothing; records and acknowledges a Stripe event it cannot read or store as sent', async () => {
    const stripe = new Stripe('sk_test_unused');
    const before = await footprint();
    const send = (payload: string) =>
      api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } });
    const notEvents = [
      { object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } },
      { id: 'evt_hostile1', object: 'event', type: 'payment_intent.succeeded', data: {} },
      { id: 'evt_hostile2', object: 'event', type: 'payment_intent.succeeded', data: { object: 'pi_1' } },
      { id: 'evt_hostile3\u0000', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } },
    ];
    for (const event of notEvents) expectRefused(await send(JSON.stringify(event)));
    expectRefused(await send('[]'));
    expect(await footprint()).toEqual(before);
    // Stripe would resend these for days if refused: recorded (text made storable) and acknowledged, applied to nothing.
    const unreadable = [
      { id: 'evt_hostile4', object: 'event', type: 'charge.refunded', data: { object: { payment_intent: 'pi_1', amount_refunded: 12.5 } } },
      { id: 'evt_hostile5', object: 'event', type: 'charge.refunded', data: { object: { payment_intent: 'pi_1', amount_refunded: '1e400' } } },
      { id: 'evt_hostile6', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', metadata: { purchaseId: 'x\ud800' } } } },
    ];
    for (const event of unreadable) expect((await send(JSON.stringify(event))).status).toBe(200);
    const { rows } = await api.pool.query(`SELECT id, purchase_id, problem IS NOT NULL AS problem FROM stripe_events WHERE id IN ('evt_hostile4', 'evt_hostile5', 'evt_hostile6') ORDER BY id`);
    expect(rows).toEqual(['evt_hostile4', 'evt_hostile5', 'evt_hostile6'].map((id) => ({ id, purchase_id: null, problem: true })));
    expect(await footprint()).toEqual({ ...before, stripe_events: before.stripe_events + 3 });
  });
});
