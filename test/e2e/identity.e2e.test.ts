import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { AUDIENCE } from '../../api/auth/tokens';
import { randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/** Identity is checked, not assumed: a validly signed token must name a principal that exists. */
describe('identity', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let other: string;
  let member: string;
  let stranger: string;

  const create = async (operator: string) => (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `id-${randomUUID().slice(0, 8)}`, name: 'Identity' } })).body.id as string;
  const addMember = async (cooperativeId: string) => {
    const token = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId });
    return (await api.request('POST', `/v1/cooperatives/${cooperativeId}/members`, { token, body: { address: randomAddress() } })).body.id as string;
  };

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    const operator = await api.token({ subject: 'op', role: 'operator' });
    [coop, other] = [await create(operator), await create(operator)];
    [member, stranger] = [await addMember(coop), await addMember(other)];
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('refuses member tokens whose subject is not a member of the token cooperative, or not an id at all', async () => {
    for (const subject of [randomUUID(), stranger, 'not-a-uuid', "x'; DROP TABLE members; --"]) {
      const token = await api.token({ subject, role: 'member', cooperativeId: coop });
      const attempts = await Promise.all([
        api.request('GET', `/v1/cooperatives/${coop}/members/${member}/balance`, { token }),
        api.request('POST', '/v1/credit-purchases', { token, body: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } }),
        api.request('POST', '/v1/delegations', { token, body: { delegateMemberId: member } }),
        api.request('POST', `/v1/cooperatives/${coop}/transfers`, { token, body: { toMemberId: member, amount: '1' }, headers: { 'idempotency-key': randomUUID() } }),
      ]);
      expect(attempts.map((r) => [r.status, r.body.error?.code])).toEqual(Array(4).fill([401, 'UNAUTHENTICATED']));
    }
    const { rows } = await api.pool.query('SELECT count(*)::int AS n FROM credit_purchases WHERE cooperative_id = $1', [coop]);
    expect(rows[0].n).toBe(0);
    const real = await api.token({ subject: member, role: 'member', cooperativeId: coop });
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${member}/balance`, { token: real })).status).toBe(200);
  });

  it('checks new member tokens that arrive together in groups, each answered by its own subject', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, () => addMember(coop)));
    const subjects = [...members, stranger, randomUUID(), ...members];
    const tokens = await Promise.all(subjects.map((subject) => api.token({ subject, role: 'member', cooperativeId: coop })));
    const answers = await Promise.all(tokens.map((token, i) => api.request('GET', `/v1/cooperatives/${coop}/members/${subjects[i]}/balance`, { token })));
    expect(answers.map((r) => r.status)).toEqual([...Array(6).fill(200), 401, 401, ...Array(6).fill(200)]);
  });

  it('refuses service tokens that name no cooperative or an unknown one, or live longer than five minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const service = (claims: Record<string, unknown>, iat: number, exp: number) =>
      new SignJWT({ role: 'service', ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuer(api.config.jwt.issuer).setAudience(AUDIENCE.service)
        .setSubject('metering').setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(api.config.jwt.service[0]!));
    const usage = (token: string) =>
      api.request('POST', `/v1/cooperatives/${coop}/usage`, { token, body: { memberId: member, primitive: 'compute_hours', quantity: '1' }, headers: { 'idempotency-key': randomUUID() } });
    const refused = [
      await service({}, now, now + 60),
      await service({ coop: randomUUID() }, now, now + 60),
      await service({ coop }, now, now + 3600),
      await service({ coop }, now - 400, now + 60),
    ];
    for (const token of refused) expect((await usage(token)).status).toBe(401);
    // Within the clock tolerance: issued 20 s "in the future" by a fast clock.
    const skewed = await service({ coop }, now + 20, now + 200);
    expect((await usage(skewed)).body.error?.code).not.toBe('UNAUTHENTICATED');
  });

  it('refuses a proposal whose action names members of another cooperative, and records nothing', async () => {
    const token = await api.token({ subject: member, role: 'member', cooperativeId: coop });
    const key = randomUUID();
    const res = await api.request('POST', '/v1/proposals', {
      token,
      body: { title: 'Pay a stranger', action: { type: 'credit_transfer', cooperativeId: coop, fromMemberId: member, toMemberId: stranger, amount: '1' } },
      headers: { 'idempotency-key': key },
    });
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const { rows } = await api.pool.query("SELECT count(*)::int AS n FROM proposals WHERE idempotency_key LIKE '%' || $1", [key]);
    expect(rows[0].n).toBe(0);
  });
});
