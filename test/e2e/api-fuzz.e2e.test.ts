import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import Stripe from 'stripe';
import { AUDIENCE } from '../../api/auth/tokens';
import * as ledger from '../../db/ledger';
import { ERROR_CODES } from '../../domain/errors';
import { isStorable, isWellFormed } from '../../domain/text';
import { cloud, randomAddress } from '../harness/ledger';
import { arbitraryFor, hostileString, hostileValue } from '../harness/openapi-arbitrary';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Property-based fuzzing of every route and method in the API's own OpenAPI document: path and query
 * parameters, bodies, headers and tokens, shaped and hostile. No request may answer 5xx, every error
 * has the documented shape, and a rejected request changes nothing. `npm test` runs a modest number
 * of cases per route (FUZZ_RUNS, default 12); `npm run fuzz` runs 1,000.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

describe('API fuzzing from the OpenAPI document', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let known: string[];
  let tokens: string[];
  let components: Record<string, never>;
  let paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: never }>; requestBody?: { content: Record<string, { schema: never }> } }>>;

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const create = async () => (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `fuzz-${randomUUID().slice(0, 8)}`, name: 'Fuzz' } })).body.id as string;
    const [other] = [await create()];
    coop = await create();
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const member = async (cooperativeId: string) => {
      const token = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId });
      return (await api.request('POST', `/v1/cooperatives/${cooperativeId}/members`, { token, body: { address: randomAddress() } })).body.id as string;
    };
    const [alice, bob, stranger] = [await member(coop), await member(coop), await member(other)];
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice, amount: cloud(100), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'fuzz-seed' });
    known = [coop, other, alice, bob, stranger, randomUUID()];
    const expired = await new SignJWT({ role: 'operator' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(api.config.jwt.issuer).setAudience(AUDIENCE.admin)
      .setSubject('op').setIssuedAt(1).setExpirationTime(2).sign(new TextEncoder().encode(api.config.jwt.admin[0]!));
    tokens = [
      '', 'Bearer', 'Bearer a.b.c', `Bearer ${expired}`, 'Basic YWRtaW46YWRtaW4=',
      ...(await Promise.all([
        api.token({ subject: alice, role: 'member', cooperativeId: coop }),
        api.token({ subject: stranger, role: 'member', cooperativeId: other }),
        api.token({ subject: randomUUID(), role: 'member', cooperativeId: coop }),
        Promise.resolve(admin),
        api.token({ subject: 'op', role: 'operator' }),
        api.token({ subject: 'metering', role: 'service', cooperativeId: coop }),
      ])).map((t) => `Bearer ${t}`),
    ];
    const doc = (await api.request('GET', '/openapi.json')).body;
    components = doc.components.schemas;
    paths = doc.paths;
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  /** Everything a request could write in the fuzzed cooperative. */
  async function footprint(): Promise<unknown> {
    const { rows } = await api.pool.query(
      `SELECT (SELECT count(*) FROM transactions WHERE cooperative_id = $1)::int AS transactions, (SELECT count(*) FROM lots WHERE cooperative_id = $1)::int AS lots,
              (SELECT coalesce(sum(available), 0)::text FROM lots WHERE cooperative_id = $1) AS available, (SELECT count(*) FROM holds WHERE cooperative_id = $1 AND status = 'open')::int AS open_holds,
              (SELECT count(*) FROM holds WHERE cooperative_id = $1)::int AS holds, (SELECT count(*) FROM members WHERE cooperative_id = $1)::int AS members,
              (SELECT count(*) FROM rate_cards WHERE cooperative_id = $1)::int AS rate_cards, (SELECT count(*) FROM outbox WHERE cooperative_id = $1)::int AS outbox,
              (SELECT count(*) FROM credit_purchases WHERE cooperative_id = $1)::int AS purchases, (SELECT count(*) FROM revenue_rules WHERE cooperative_id = $1)::int AS rules,
              (SELECT count(*) FROM proposals WHERE origin_cooperative_id = $1)::int AS proposals, (SELECT md5(string_agg(delegator::text || delegate::text, ',' ORDER BY delegator)) FROM delegations WHERE cooperative_id = $1) AS delegations,
              (SELECT md5(row(g.*)::text) FROM governance_settings g WHERE cooperative_id = $1) AS settings,
              (SELECT md5(string_agg(row(w.*)::text, ',' ORDER BY id)) FROM webhook_endpoints w WHERE cooperative_id = $1) AS webhook_endpoints,
              (SELECT count(*) FROM webhook_endpoint_secrets WHERE cooperative_id = $1)::int AS webhook_secrets,
              (SELECT md5(string_agg(row(t.*)::text, ',' ORDER BY days)) FROM staking_terms t WHERE cooperative_id = $1) AS staking_terms,
              (SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) FROM staking_positions WHERE cooperative_id = $1) AS positions,
              (SELECT md5(string_agg(id::text || granted, ',' ORDER BY id)) FROM campaigns WHERE cooperative_id = $1) AS campaigns,
              (SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) FROM corrections WHERE cooperative_id = $1) AS corrections`,
      [coop],
    );
    return rows[0];
  }

  /** A path segment as a client would send it; text that cannot be encoded goes as the invalid UTF-8 it would become. */
  const encode = (text: string) => (isWellFormed(text) ? encodeURIComponent(text) : '%ED%A0%80');
  const segment = () => fc.oneof({ arbitrary: fc.constantFrom(...known).map(encode), weight: 4 }, hostileString.map(encode), fc.constantFrom('%ff', '%E0%A4%A', '%', '..', '%2e%2e'));

  function requestFor(path: string, method: string) {
    const op = paths[path]![method]!;
    const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    const query = (op.parameters ?? []).filter((p) => p.in === 'query');
    const bodySchema = op.requestBody?.content['application/json']?.schema;
    return fc.record({
      segments: fc.tuple(...params.map(() => segment())),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...query.map((q) => q.name), 'extra'), fc.string({ maxLength: 8 })), fc.oneof(hostileString, fc.constantFrom(...known), fc.integer().map(String))), { maxLength: 3 }),
      authorization: fc.constantFrom(...tokens),
      key: fc.oneof(fc.constant(undefined), fc.uuid(), hostileString),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1', undefined),
      body: fc.oneof({ arbitrary: arbitraryFor(bodySchema, components, known).map((v) => (v === undefined ? undefined : JSON.stringify(v))), weight: 5 }, fc.string({ maxLength: 50 }), fc.constant('{"a":'), hostileValue.map((v) => JSON.stringify(v))),
    });
  }

  function send(path: string, method: string, r: { segments: string[]; query: Array<[string, string]>; authorization: string; key?: string; contentType?: string; body?: string }) {
    let i = 0;
    const url = `${api.url}${path.replace(/\{\w+\}/g, () => r.segments[i++]!)}${r.query.length ? `?${new URLSearchParams(r.query)}` : ''}`;
    const headers: Record<string, string> = {};
    if (r.authorization) headers.authorization = r.authorization;
    if (r.key !== undefined && /^[\x20-\x7e]*$/.test(r.key)) headers['idempotency-key'] = r.key;
    if (r.contentType) headers['content-type'] = r.contentType;
    const hasBody = method !== 'get' && method !== 'delete' && r.body !== undefined;
    return fetch(url, { method: method.toUpperCase(), headers, body: hasBody ? r.body : undefined });
  }

  it('covers every route and method of the document', () => {
    const operations = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(operations.length).toBeGreaterThanOrEqual(61);
  });

  it('answers every fuzzed request below 500, in the documented error shape, and changes nothing when it refuses', async () => {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const [path, ops] of Object.entries(paths)) {
      if (path === '/v1/webhooks/stripe') continue;
      for (const method of Object.keys(ops)) {
        await fc.assert(
          fc.asyncProperty(requestFor(path, method), async (r) => {
            const before = await footprint();
            const res = await send(path, method, r);
            const text = await res.text();
            const where = `${method.toUpperCase()} ${path} → ${res.status}`;
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 500) failures.push(`${where} ${text.slice(0, 200)} ${JSON.stringify(r).slice(0, 300)}`);
            if (res.status >= 400) {
              const body = JSON.parse(text) as { error?: { code?: string; requestId?: string } };
              expect({ where, code: ERROR_CODES.includes(body.error?.code as never), requestId: typeof body.error?.requestId }).toEqual({ where, code: true, requestId: 'string' });
              expect(await footprint()).toEqual(before);
            }
          }),
          { numRuns: RUNS },
        );
      }
    }
    if (process.env.FUZZ_RUNS) {
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(`fuzz: ${total} requests over ${Object.values(paths).reduce((n, ops) => n + Object.keys(ops).length, 0) - 1} operations (${RUNS} each); by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}; 5xx: ${failures.length}\n`);
    }
    expect(failures).toEqual([]);
  }, 3_600_000);

  it('answers signed Stripe events of any shape with 200 (recorded) or 400 (not an event: recorded nothing), never a 5xx', async () => {
    const stripe = new Stripe('sk_test_unused');
    const event = fc.oneof(
      hostileValue,
      fc.record({ id: fc.oneof(fc.string().map((s) => `evt_${s}`), hostileValue), object: fc.constant('event'), type: fc.oneof(fc.constantFrom('payment_intent.succeeded', 'charge.refunded', 'charge.dispute.created', 'checkout.session.completed', 'payment_intent.payment_failed'), hostileString), data: fc.oneof(hostileValue, fc.record({ object: hostileValue }), fc.record({ object: fc.record({ id: hostileValue, payment_intent: hostileValue, amount_refunded: hostileValue, amount: hostileValue, metadata: hostileValue }, { requiredKeys: [] }) })) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(event, async (e) => {
        const payload = JSON.stringify(e) ?? 'null';
        const id = (e as { id?: unknown } | null)?.id;
        const recorded = async () => {
          if (typeof id !== 'string' || !isStorable(id)) return 0;
          return (await api.pool.query('SELECT count(*)::int AS n FROM stripe_events WHERE id = $1', [id])).rows[0].n as number;
        };
        const before = await recorded();
        const res = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret }) } });
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) expect(await recorded()).toBe(before);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
