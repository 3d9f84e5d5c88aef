import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { createPurchase } from '../../db/credit-purchases';
import { createRule } from '../../db/revenue-rules';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * The read API: each resource a client creates is read back and listed, scoped by role and
 * cooperative, paged by an opaque cursor that tampering turns into a 400 at worst, and filtered.
 */
describe('read API', () => {
  let api: TestApi;
  let coop: string;
  let other: string;
  let admin: string;
  let service: string;
  let operator: string;
  let alice: string;
  let bob: string;
  const tokenOf = (memberId: string, cooperativeId = coop) => api.token({ subject: memberId, role: 'member', cooperativeId });

  beforeAll(async () => {
    api = await startTestApi();
    [coop, other] = await Promise.all([provisionCooperative(api.pool), provisionCooperative(api.pool)]);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    service = await api.token({ subject: 'billing', role: 'service', cooperativeId: coop });
    operator = await api.token({ subject: 'ops', role: 'operator' });
    [alice, bob] = await Promise.all([addMember(api.pool, coop), addMember(api.pool, coop)]);
    for (const m of [alice, bob]) {
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: m, amount: cloud(50), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });
    }
  });
  afterAll(async () => {
    await api?.close();
  });

  /** Every page of a list, following nextCursor to the end. */
  async function all(path: string, token: string, limit = 2): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await api.request('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  it('lists cooperatives for operators only, and shows everyone the directory of active ones', async () => {
    const listed = await all('/v1/cooperatives?status=active', operator, 100);
    expect(listed.map((c) => c.id)).toEqual(expect.arrayContaining([coop, other]));
    expect(listed.every((c) => c.status === 'active')).toBe(true);
    for (const token of [admin, await tokenOf(alice)]) expect((await api.request('GET', '/v1/cooperatives', { token })).status).toBe(403);
    const bound = await api.token({ subject: 'ops', role: 'operator', cooperativeId: other });
    expect((await all('/v1/cooperatives', bound)).map((c) => c.id)).toEqual([other]);

    const directory = await all('/v1/directory/cooperatives', await tokenOf(alice), 100);
    expect(directory.find((c) => c.id === other)).toEqual({ id: other, slug: expect.any(String), name: expect.any(String) });
    const slugs = directory.map((c) => c.slug);
    expect(slugs).toEqual([...slugs].sort());
  });

  it('gets, lists and updates members, each within their own cooperative', async () => {
    const got = await api.request('GET', `/v1/cooperatives/${coop}/members/${alice}`, { token: await tokenOf(bob) });
    expect(got.body).toMatchObject({ id: alice, cooperativeId: coop, status: 'active', deactivatedAt: null });
    const members = await all(`/v1/cooperatives/${coop}/members`, admin);
    expect(members.map((m) => m.id)).toEqual(expect.arrayContaining([alice, bob]));
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${alice}`, { token: await api.token({ subject: 'a', role: 'coop_admin', cooperativeId: other }) })).status).toBe(403);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${randomUUID()}`, { token: admin })).status).toBe(404);

    const ens = `alice-${randomUUID().slice(0, 8)}.techne.eth`;
    const renamed = await api.request('PATCH', `/v1/cooperatives/${coop}/members/${alice}`, { token: await tokenOf(alice), body: { displayName: 'Alice', ensName: ens.toUpperCase() } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ displayName: 'Alice', ensName: ens });
    expect((await api.request('PATCH', `/v1/cooperatives/${coop}/members/${bob}`, { token: await tokenOf(alice), body: { displayName: 'Not Bob' } })).status).toBe(403);
    const taken = await api.request('PATCH', `/v1/cooperatives/${coop}/members/${bob}`, { token: admin, body: { ensName: ens } });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'CONFLICT']);
    const cleared = await api.request('PATCH', `/v1/cooperatives/${coop}/members/${alice}`, { token: admin, body: { ensName: null } });
    expect(cleared.body).toMatchObject({ displayName: 'Alice', ensName: null });
    expect((await api.request('PATCH', `/v1/cooperatives/${coop}/members/${alice}`, { token: admin, body: {} })).status).toBe(400);
  });

  it('deactivates a member only without open holds; then their tokens and new holds are refused, and the balance stays', async () => {
    const carol = await addMember(api.pool, coop);
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: carol, amount: cloud(10), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });
    const hold = async () =>
      api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, headers: { 'idempotency-key': randomUUID() }, body: { memberId: carol, amount: '1' } });
    const open = await hold();
    expect(open.status).toBe(201);

    const refused = await api.request('POST', `/v1/cooperatives/${coop}/members/${carol}/deactivate`, { token: admin });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'CONFLICT']);
    await api.request('POST', `/v1/cooperatives/${coop}/holds/${open.body.id}/release`, { token: service });

    const done = await api.request('POST', `/v1/cooperatives/${coop}/members/${carol}/deactivate`, { token: admin });
    expect(done.body).toMatchObject({ status: 'deactivated', deactivatedAt: expect.any(String) });
    const again = await api.request('POST', `/v1/cooperatives/${coop}/members/${carol}/deactivate`, { token: admin });
    expect(again.body).toEqual(done.body);
    expect((await api.request('POST', `/v1/cooperatives/${coop}/members/${carol}/deactivate`, { token: await tokenOf(alice) })).status).toBe(403);

    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${carol}/balance`, { token: await tokenOf(carol) })).status).toBe(401);
    const late = await hold();
    expect([late.status, late.body.error.code]).toEqual([409, 'CONFLICT']);
    const balance = await api.request('GET', `/v1/cooperatives/${coop}/members/${carol}/balance`, { token: admin });
    expect(balance.body.available).toBe('10');
    expect((await all(`/v1/cooperatives/${coop}/members?status=deactivated`, admin)).map((m) => m.id)).toContain(carol);
    expect((await all(`/v1/cooperatives/${coop}/members?status=active`, admin)).map((m) => m.id)).not.toContain(carol);

    const back = await api.request('POST', `/v1/cooperatives/${coop}/members/${carol}/reactivate`, { token: admin });
    expect(back.body).toMatchObject({ status: 'active', deactivatedAt: null });
    expect((await hold()).status).toBe(201);
  });

  it('never leaves a deactivated member with an open hold, however deactivation and reservations race', async () => {
    const dave = await addMember(api.pool, coop);
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: dave, amount: cloud(100), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });
    for (let round = 0; round < 8; round++) {
      const holds = Array.from({ length: 4 }, () =>
        api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, headers: { 'idempotency-key': randomUUID() }, body: { memberId: dave, amount: '0.1' } }),
      );
      const [deactivated, ...reserved] = await Promise.all([api.request('POST', `/v1/cooperatives/${coop}/members/${dave}/deactivate`, { token: admin }), ...holds]);
      for (const r of [deactivated, ...reserved]) expect([200, 201, 409]).toContain(r.status);
      const { rows } = await api.pool.query<{ status: string; open: number }>(
        `SELECT m.status, (SELECT count(*)::int FROM holds h WHERE h.member_id = m.id AND h.status = 'open') AS open FROM members m WHERE m.id = $1`,
        [dave],
      );
      expect(rows[0]!.status === 'deactivated' && rows[0]!.open > 0).toBe(false);
      // Back to an active member without holds for the next round.
      for (const r of reserved.filter((h) => h.status === 201)) await api.request('POST', `/v1/cooperatives/${coop}/holds/${r.body.id}/release`, { token: service });
      await api.request('POST', `/v1/cooperatives/${coop}/members/${dave}/reactivate`, { token: admin });
    }
  });

  it('lists holds by member and status; a member sees only their own', async () => {
    const reserve = (memberId: string) =>
      api.request('POST', `/v1/cooperatives/${coop}/holds`, { token: service, headers: { 'idempotency-key': randomUUID() }, body: { memberId, amount: '0.5' } });
    const [a1, a2, b1] = [await reserve(alice), await reserve(alice), await reserve(bob)];
    await api.request('POST', `/v1/cooperatives/${coop}/holds/${a2.body.id}/finalize`, { token: service, body: { amount: '0.25' } });

    const mine = await all(`/v1/cooperatives/${coop}/holds`, await tokenOf(alice));
    expect(mine.every((h) => h.memberId === alice)).toBe(true);
    expect(mine.map((h) => h.id)).toEqual(expect.arrayContaining([a1.body.id, a2.body.id]));
    expect((await api.request('GET', `/v1/cooperatives/${coop}/holds?memberId=${bob}`, { token: await tokenOf(alice) })).status).toBe(403);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/holds/${b1.body.id}`, { token: await tokenOf(alice) })).status).toBe(404);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/holds/${a2.body.id}`, { token: await tokenOf(alice) })).body).toMatchObject({ status: 'finalized', finalAmount: '0.25' });

    const finalized = await all(`/v1/cooperatives/${coop}/holds?status=finalized&memberId=${alice}`, admin);
    expect(finalized.map((h) => h.id)).toEqual([a2.body.id]);
    const everyone = await all(`/v1/cooperatives/${coop}/holds`, admin, 100);
    expect(everyone.map((h) => h.id)).toEqual(expect.arrayContaining([a1.body.id, a2.body.id, b1.body.id]));
    const created = everyone.map((h) => Date.parse(h.createdAt));
    expect(created).toEqual([...created].sort((x, y) => y - x));
    const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await all(`/v1/cooperatives/${coop}/holds?createdFrom=${future}`, admin)).length).toBe(0);
    expect((await all(`/v1/cooperatives/${coop}/holds?createdBefore=${future}`, admin, 100)).length).toBe(everyone.length);
    expect((await api.request('GET', `/v1/cooperatives/${other}/holds`, { token: admin })).status).toBe(403);
  });

  it('lists credit purchases by member and status; a member sees only their own', async () => {
    const buy = (memberId: string) =>
      createPurchase(api.pool, { id: randomUUID(), cooperativeId: coop, memberId, amount: cloud(1), amountCents: 1000n, idempotencyKey: randomUUID() });
    const [pa, pb] = [(await buy(alice)).purchase, (await buy(bob)).purchase];
    const mine = await all(`/v1/cooperatives/${coop}/credit-purchases`, await tokenOf(bob));
    expect(mine.map((p) => p.id)).toEqual([pb.id]);
    expect(mine[0]).toMatchObject({ memberId: bob, status: 'creating_payment', amount: '1', workflowId: `credit-purchase:${pb.id}` });
    const byStatus = await all(`/v1/cooperatives/${coop}/credit-purchases?status=creating_payment&memberId=${alice}`, service);
    expect(byStatus.map((p) => p.id)).toEqual([pa.id]);
    expect(await all(`/v1/cooperatives/${coop}/credit-purchases?status=minted`, admin)).toEqual([]);
  });

  it('lists revenue rules and the rate card history, newest version first', async () => {
    for (const name of ['first', 'second', 'third']) {
      await createRule(api.pool, { id: randomUUID(), cooperativeId: coop, name, shares: [{ name: 'all', memberId: alice, basisPoints: 10_000 }], proposer: 'admin', idempotencyKey: randomUUID() });
    }
    const rules = await all(`/v1/cooperatives/${coop}/revenue-rules?status=draft`, await tokenOf(bob));
    expect(rules.map((r) => [r.version, r.name])).toEqual([[3, 'third'], [2, 'second'], [1, 'first']]);
    expect(await all(`/v1/cooperatives/${coop}/revenue-rules?status=active`, admin)).toEqual([]);

    const at = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const rates = Object.fromEntries(['compute_hours', 'transfer_gb', 'long_term_memory_gb_months', 'short_term_memory_gb_hours'].map((p) => [p, { rate: '2', infrastructureCost: '0.1' }]));
    for (const days of [10, 20]) {
      const made = await api.request('POST', `/v1/cooperatives/${coop}/rate-cards`, { token: admin, headers: { 'idempotency-key': randomUUID() }, body: { effectiveFrom: at(days), rates } });
      expect(made.status).toBe(201);
    }
    const cards = await all(`/v1/cooperatives/${coop}/rate-cards`, await tokenOf(alice));
    expect(cards.map((c) => c.version)).toEqual([3, 2, 1]);
    expect(cards[2]).toMatchObject({ effectiveFrom: '1970-01-01T00:00:00.000Z', retroactiveReason: expect.any(String), rates: { compute_hours: { rate: '1' } } });
    const ahead = await all(`/v1/cooperatives/${coop}/rate-cards?effectiveFrom=${encodeURIComponent(at(1))}&effectiveBefore=${encodeURIComponent(at(15))}`, admin);
    expect(ahead.map((c) => c.version)).toEqual([2]);
  });

  it('answers a tampered cursor or an out-of-range limit with 400 on every list, never a 5xx', async () => {
    const lists = [
      ['/v1/cooperatives', operator], ['/v1/directory/cooperatives', admin], [`/v1/cooperatives/${coop}/members`, admin], [`/v1/cooperatives/${coop}/holds`, admin],
      [`/v1/cooperatives/${coop}/credit-purchases`, admin], [`/v1/cooperatives/${coop}/revenue-rules`, admin], [`/v1/cooperatives/${coop}/rate-cards`, admin],
    ] as const;
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    // Never positions: refused on every list.
    const garbage = ['%%%', 'not-base64!', b64('{"a":1}'), b64([]), b64(null), b64(['', '']), b64([{}])];
    // Positions of the wrong shape for some lists (or a valid one for another): refused or served, never a 5xx.
    const shaped = [b64(['99999999999999999999', randomUUID()]), b64(['1', 'x']), b64([-1]), b64([2 ** 40]), b64([1.5]), b64(['zzzz']), b64([3]), b64(['1763802600000000', randomUUID()])];
    for (const [path, token] of lists) {
      for (const cursor of garbage) {
        const res = await api.request('GET', `${path}?cursor=${encodeURIComponent(cursor)}`, { token });
        expect([path, cursor, res.status, res.body.error?.code]).toEqual([path, cursor, 400, 'VALIDATION_ERROR']);
      }
      for (const cursor of shaped) {
        const res = await api.request('GET', `${path}?cursor=${encodeURIComponent(cursor)}`, { token });
        expect([path, cursor, res.status === 200 || (res.status === 400 && res.body.error.code === 'VALIDATION_ERROR')]).toEqual([path, cursor, true]);
      }
      for (const limit of ['0', '101', 'x', '-1']) expect((await api.request('GET', `${path}?limit=${limit}`, { token })).status).toBe(400);
    }
  });

  it('publishes every list in the OpenAPI document', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    for (const path of ['/v1/cooperatives', '/v1/directory/cooperatives', '/v1/cooperatives/{cooperativeId}/members', '/v1/cooperatives/{cooperativeId}/holds', '/v1/cooperatives/{cooperativeId}/credit-purchases', '/v1/cooperatives/{cooperativeId}/revenue-rules', '/v1/cooperatives/{cooperativeId}/rate-cards']) {
      const names = (doc.paths[path].get.parameters as Array<{ name: string }>).map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['limit', 'cursor']));
    }
    expect(Object.keys(doc.paths['/v1/cooperatives/{cooperativeId}/members/{memberId}'])).toEqual(expect.arrayContaining(['get', 'patch']));
    expect(doc.paths['/v1/cooperatives/{cooperativeId}/members/{memberId}/deactivate'].post).toBeDefined();
  });
});
