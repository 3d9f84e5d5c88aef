import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { formatMicros } from '../../domain/money';
import { stakeState, type StakeState } from '../../workflows/stake';
import { correctionState } from '../../workflows/correction';
import { eventually } from '../harness/eventually';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

const DAY = 86_400_000;

/**
 * Member economics over HTTP, with a real worker: lock terms, stakes and their workflows, refusals
 * that change nothing, an early exit with its penalty, the stakers' share of a distribution,
 * campaigns and their batch grants, and operators' burns and corrections with four eyes. The unlock
 * timers themselves run in virtual time (test/workflows/staking.test.ts).
 */
describe('member economics API', () => {
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let other: string;
  let admin: string;
  let operator: string;
  let secondOperator: string;
  let stranger: { id: string; token: string };
  type Member = { id: string; token: string };

  const post = (path: string, token: string, body: unknown, key: string | null = randomUUID()) =>
    api.request('POST', path, { token, body, headers: key ? { 'idempotency-key': key } : {} });
  const get = (path: string, token: string) => api.request('GET', path, { token });

  async function member(cooperativeId = coop): Promise<Member> {
    const token = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId });
    const res = await post(`/v1/cooperatives/${cooperativeId}/members`, token, { address: randomAddress() }, null);
    expect(res.status).toBe(201);
    return { id: res.body.id, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId }) };
  }
  const buy = (m: Member, amount: number, cooperativeId = coop) =>
    ledger.mint(api.pool, { cooperativeId, memberId: m.id, amount: cloud(amount), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `buy-${randomUUID()}` });
  const balance = async (m: Member) => (await get(`/v1/cooperatives/${coop}/members/${m.id}/balance`, m.token)).body;

  /** Everything a refused request could have written in the cooperative. */
  async function footprint(): Promise<unknown> {
    const { rows } = await api.pool.query(
      `SELECT (SELECT count(*) FROM transactions WHERE cooperative_id = $1)::int AS transactions, (SELECT count(*) FROM lots WHERE cooperative_id = $1)::int AS lots,
              (SELECT coalesce(sum(available), 0)::text FROM lots WHERE cooperative_id = $1) AS available,
              (SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) FROM staking_positions WHERE cooperative_id = $1) AS positions,
              (SELECT md5(string_agg(id::text || granted, ',' ORDER BY id)) FROM campaigns WHERE cooperative_id = $1) AS campaigns,
              (SELECT count(*) FROM campaign_grants WHERE cooperative_id = $1)::int AS grants,
              (SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) FROM corrections WHERE cooperative_id = $1) AS corrections,
              (SELECT count(*) FROM outbox WHERE cooperative_id = $1)::int AS outbox`,
      [coop],
    );
    return rows[0];
  }
  /** The request is refused with the code, and nothing in the cooperative changes. */
  async function refusedWithNothingChanged(send: () => Promise<{ status: number; body: any }>, status: number, code: string): Promise<string> {
    const before = await footprint();
    const res = await send();
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(await footprint()).toEqual(before);
    return res.body.error.message;
  }

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi({ CORRECTION_APPROVAL_THRESHOLD: '5' }), startTestWorker()]);
    operator = await api.token({ subject: 'op-ana', role: 'operator' });
    secondOperator = await api.token({ subject: 'op-ben', role: 'operator' });
    const create = async (slug: string) => (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `${slug}-${randomUUID().slice(0, 8)}`, name: slug } })).body.id as string;
    [coop, other] = [await create('economics'), await create('elsewhere')];
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    stranger = await member(other);
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  describe('lock terms', () => {
    it("offers the documented defaults until an admin sets the cooperative's own, which every role can read", async () => {
      const m = await member();
      const defaults = await get(`/v1/cooperatives/${coop}/staking-terms`, m.token);
      expect(defaults.body).toEqual({
        isDefault: true,
        terms: [
          { days: 30, multiplierBasisPoints: 10_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
          { days: 90, multiplierBasisPoints: 12_500, autoRelease: true, earlyExitPenaltyBasisPoints: null },
          { days: 180, multiplierBasisPoints: 15_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
          { days: 365, multiplierBasisPoints: 20_000, autoRelease: true, earlyExitPenaltyBasisPoints: null },
        ],
      });
      const terms = [
        { days: 30, multiplierBasisPoints: 10_000, autoRelease: false, earlyExitPenaltyBasisPoints: 1_000 },
        { days: 90, multiplierBasisPoints: 12_500, autoRelease: true },
        { days: 365, multiplierBasisPoints: 20_000, autoRelease: false },
      ];
      const set = await api.request('PUT', `/v1/cooperatives/${coop}/staking-terms`, { token: admin, body: { terms } });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({ isDefault: false, terms: [terms[0], { ...terms[1], earlyExitPenaltyBasisPoints: null }, { ...terms[2], earlyExitPenaltyBasisPoints: null }] });
      expect((await get(`/v1/cooperatives/${coop}/staking-terms`, m.token)).body).toEqual(set.body);
    });

    it("refuses repeated lengths, terms out of bounds, members and other cooperatives' admins, changing nothing", async () => {
      const put = (token: string, body: unknown, cooperativeId = coop) => () => api.request('PUT', `/v1/cooperatives/${cooperativeId}/staking-terms`, { token, body });
      const term = { days: 30, multiplierBasisPoints: 10_000, autoRelease: true };
      await refusedWithNothingChanged(put(admin, { terms: [term, term] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(put(admin, { terms: [{ ...term, days: 0 }] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(put(admin, { terms: [{ ...term, multiplierBasisPoints: 1.5 }] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(put(admin, { terms: [] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(put((await member()).token, { terms: [term] }), 403, 'FORBIDDEN');
      await refusedWithNothingChanged(put(await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: other }), { terms: [term] }), 403, 'FORBIDDEN');
    });
  });

  describe('stakes', () => {
    it('stakes once per key: the credits move to the staking account, the position and its workflow open, the balance shows it apart', async () => {
      const alice = await member();
      await buy(alice, 30);
      const key = randomUUID();
      const first = await post(`/v1/cooperatives/${coop}/stakes`, alice.token, { amount: '10', termDays: 90 }, key);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        memberId: alice.id, amount: '10', termDays: 90, multiplierBasisPoints: 12_500, autoRelease: true, status: 'active', revenueEarned: '0',
        releasedAt: null, releaseKind: null, penalty: null, workflowId: `stake:${first.body.id}`,
      });
      expect(Date.parse(first.body.unlocksAt) - Date.parse(first.body.stakedAt)).toBe(90 * DAY);
      const again = await post(`/v1/cooperatives/${coop}/stakes`, alice.token, { amount: '10', termDays: 90 }, key);
      expect({ status: again.status, id: again.body.id, replayed: again.headers.get('idempotent-replayed') }).toEqual({ status: 200, id: first.body.id, replayed: 'true' });
      expect((await post(`/v1/cooperatives/${coop}/stakes`, alice.token, { amount: '11', termDays: 90 }, key)).status).toBe(422);

      const b = await balance(alice);
      expect(b).toMatchObject({ wallet: '20', available: '20', staked: '10' });
      expect(b.positions).toEqual([expect.objectContaining({ id: first.body.id, amount: '10', termDays: 90, unlocksAt: first.body.unlocksAt })]);
      const state = await eventually(() => api.temporal.workflow.getHandle(`stake:${first.body.id}`).query(stakeState).catch(() => undefined), (s) => s !== undefined);
      expect(state).toEqual({ status: 'locked', unlocksAt: first.body.unlocksAt, autoRelease: true });
      const listed = await get(`/v1/cooperatives/${coop}/stakes?limit=1`, alice.token);
      expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual([first.body.id]);
      expect((await get(`/v1/cooperatives/${coop}/stakes/${first.body.id}`, admin)).body).toEqual(first.body);
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
    });

    it('refuses an unstake before the unlock instant with 409 and changes nothing', async () => {
      const bob = await member();
      await buy(bob, 5);
      const position = (await post(`/v1/cooperatives/${coop}/stakes`, bob.token, { amount: '5', termDays: 365 })).body;
      const message = await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, bob.token, {}, null), 409, 'CONFLICT');
      expect(message).toBe(`The position is locked until ${position.unlocksAt}`);
      // Asking for an early exit on a term without one is refused too.
      expect(await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, bob.token, { earlyExit: true }, null), 409, 'CONFLICT')).toMatch(/allows no early exit/);
      // Only its member unstakes it.
      await refusedWithNothingChanged(async () => post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, (await member()).token, {}, null), 403, 'FORBIDDEN');
      expect((await balance(bob)).staked).toBe('5');
    });

    it("refuses negative, zero, beyond the balance, an unknown term and another cooperative's member, with nothing changed", async () => {
      const carol = await member();
      await buy(carol, 3);
      const stake = (body: unknown, token = carol.token, cooperativeId = coop) => () => post(`/v1/cooperatives/${cooperativeId}/stakes`, token, body);
      await refusedWithNothingChanged(stake({ amount: '-1', termDays: 30 }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(stake({ amount: '0', termDays: 30 }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(stake({ amount: 1, termDays: 30 }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(stake({ amount: '3.000001', termDays: 30 }), 422, 'INSUFFICIENT_FUNDS');
      expect(await refusedWithNothingChanged(stake({ amount: '1', termDays: 60 }), 400, 'VALIDATION_ERROR')).toBe('No 60-day term: this cooperative offers 30, 90, 365 days');
      await refusedWithNothingChanged(stake({ amount: '1', termDays: 30 }, stranger.token), 403, 'FORBIDDEN');
      // Admins and operators do not stake for a member.
      await refusedWithNothingChanged(stake({ amount: '1', termDays: 30 }, admin), 403, 'FORBIDDEN');
      // Promotional credits are for service use: they cannot be staked.
      await ledger.mint(api.pool, { cooperativeId: coop, memberId: carol.id, amount: cloud(5), source: 'grant', sourceId: `g-${randomUUID()}`, idempotencyKey: `g-${randomUUID()}` });
      await refusedWithNothingChanged(stake({ amount: '4', termDays: 30 }), 422, 'INSUFFICIENT_FUNDS');
      expect(await balance(carol)).toMatchObject({ available: '8', staked: '0', positions: [] });
    });

    it('lets a member leave early only where the term allows it and only when asked, forfeiting the penalty; the credits come back as the lots they left', async () => {
      const dan = await member();
      const lot = (await buy(dan, 10)).transaction.metadata.lotId as string;
      const position = (await post(`/v1/cooperatives/${coop}/stakes`, dan.token, { amount: '10', termDays: 30 })).body;
      expect(await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, dan.token, {}, null), 409, 'CONFLICT')).toMatch(/early exit \(earlyExit: true\) forfeits 10%/);
      const exited = await post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, dan.token, { earlyExit: true }, null);
      expect(exited.status).toBe(200);
      expect(exited.body).toMatchObject({ status: 'released', releaseKind: 'early_exit', penalty: '1' });
      expect(Date.parse(exited.body.releasedAt)).toBeLessThan(Date.parse(position.unlocksAt));
      expect(await balance(dan)).toMatchObject({ wallet: '9', staked: '0', positions: [] });
      const restored = await api.pool.query(`SELECT source, category, parent_lot_id, original::text FROM lots WHERE member_id = $1 AND source = 'unstake'`, [dan.id]);
      expect(restored.rows).toEqual([{ source: 'unstake', category: 'paid', parent_lot_id: lot, original: '9000000' }]);
      // Released once: asking again answers with the released position.
      const again = await post(`/v1/cooperatives/${coop}/stakes/${position.id}/unstake`, dan.token, {}, null);
      expect(again.body).toMatchObject({ status: 'released', releaseKind: 'early_exit' });
      expect((await api.temporal.workflow.getHandle(`stake:${position.id}`).result()) as StakeState).toMatchObject({ status: 'released', releasedBy: 'member', releaseKind: 'early_exit' });
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
    });
  });

  describe("the stakers' share of revenue", () => {
    it('pays the positions of the period pro rata, records what each earned, once per distribution', async () => {
      const from = new Date(Date.now() - 1000).toISOString();
      const [erin, fay, payer] = [await member(), await member(), await member()];
      await Promise.all([buy(erin, 10), buy(fay, 10), buy(payer, 100)]);
      const erinPosition = (await post(`/v1/cooperatives/${coop}/stakes`, erin.token, { amount: '10', termDays: 365 })).body;
      const fayPosition = (await post(`/v1/cooperatives/${coop}/stakes`, fay.token, { amount: '10', termDays: 90 })).body;
      // Revenue earned: credits used for service.
      await ledger.redeemUsage(api.pool, { cooperativeId: coop, memberId: payer.id, primitive: 'compute_hours', quantity: 50_000_000n, idempotencyKey: `use-${randomUUID()}` });
      const otherAdmin = await api.token({ subject: 'admin-2', role: 'coop_admin', cooperativeId: coop });
      const rule = await post('/v1/revenue-rules', admin, { name: 'Stakers and reserve', shares: [{ name: 'stakers', stakers: true, basisPoints: 6_000 }, { name: 'reserve', memberId: payer.id, basisPoints: 4_000 }] });
      expect(rule.status).toBe(201);
      expect(rule.body.shares[0]).toEqual({ name: 'stakers', stakers: true, basisPoints: 6_000 });
      await post(`/v1/revenue-rules/${rule.body.id}/submit`, admin, {}, null);
      await post(`/v1/revenue-rules/${rule.body.id}/approve`, otherAdmin, {}, null);
      expect((await post(`/v1/revenue-rules/${rule.body.id}/override`, operator, { reason: 'test cooperative' }, null)).body.status).toBe('active');

      const service = await api.token({ subject: 'billing', role: 'service', cooperativeId: coop });
      const body = { distributionId: `d-${randomUUID()}`, amount: '10', period: { from, to: new Date().toISOString() } };
      expect((await post('/v1/revenue-distributions', service, { distributionId: body.distributionId, amount: '10' })).body.error.code).toBe('VALIDATION_ERROR');
      const key = randomUUID();
      const distributed = await post('/v1/revenue-distributions', service, body, key);
      expect(distributed.status).toBe(201);
      expect(distributed.body.metadata.stakers).toMatchObject({ basisPoints: 6_000, amount: '6' });
      expect((await post('/v1/revenue-distributions', service, body, key)).status).toBe(200);

      const shares = await api.pool.query(`SELECT position_id, basis_points, amount::text, committed_ms::text FROM staking_revenue_shares WHERE distribution_id = $1`, [body.distributionId]);
      const earned = async (id: string) => (await get(`/v1/cooperatives/${coop}/stakes/${id}`, admin)).body.revenueEarned as string;
      const mine = shares.rows.filter((r) => r.position_id === erinPosition.id || r.position_id === fayPosition.id);
      expect(mine).toHaveLength(2);
      // Other positions of this cooperative staked in the period share too; all of them add up to the stakers' share exactly.
      expect(shares.rows.reduce((a, r) => a + BigInt(r.amount), 0n)).toBe(cloud(6));
      expect(shares.rows.reduce((a, r) => a + r.basis_points, 0)).toBe(10_000);
      for (const r of mine) expect(await earned(r.position_id)).toBe(formatMicros(BigInt(r.amount)));
      // Erin's 2.0x outweighs Fay's 1.25x per credit and millisecond: she staked first, so she also has more time.
      const [e, f] = [erinPosition.id, fayPosition.id].map((id) => shares.rows.find((r) => r.position_id === id)!);
      expect(BigInt(e!.amount)).toBeGreaterThan(BigInt(f!.amount));
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
    });
  });

  describe('campaigns', () => {
    it('grants a batch as promotional lots, one per member, idempotent by campaign and member, and shows the budget left', async () => {
      const members = [await member(), await member(), await member()];
      const created = await post(`/v1/cooperatives/${coop}/campaigns`, admin, { name: 'Spring', budget: '10', perWalletCap: '3', grantExpiryDays: 30 });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ budget: '10', perWalletCap: '3', granted: '0', remainingBudget: '10', grantCount: 0, category: 'promotional', createdBy: 'admin' });
      const campaign = created.body.id as string;
      const path = `/v1/cooperatives/${coop}/campaigns/${campaign}/grants`;
      const batch = { grants: members.map((m) => ({ memberId: m.id, amount: '3' })) };
      const granted = await post(path, admin, batch);
      expect(granted.status).toBe(201);
      expect(granted.body).toMatchObject({ created: 3, campaign: { granted: '9', remainingBudget: '1', grantCount: 3 } });
      const expiresAt = Date.parse(granted.body.grants[0].expiresAt);
      expect(expiresAt - Date.parse(granted.body.grants[0].grantedAt)).toBeGreaterThanOrEqual(30 * DAY - 1000);
      // The same members again, under another key: the same grants, nothing new.
      const again = await post(path, operator, batch);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: 0, campaign: { granted: '9' } });
      expect(again.body.grants).toEqual(granted.body.grants);
      const lots = await api.pool.query(`SELECT count(*)::int AS n FROM lots WHERE source = 'grant' AND source_id LIKE $1`, [`campaign:${campaign}:%`]);
      expect(lots.rows[0].n).toBe(3);
      const page = await get(`/v1/cooperatives/${coop}/campaigns/${campaign}/grants?limit=2`, admin);
      const rest = await get(`/v1/cooperatives/${coop}/campaigns/${campaign}/grants?limit=2&cursor=${page.body.nextCursor}`, admin);
      expect([...page.body.items, ...rest.body.items].map((g: { memberId: string }) => g.memberId).sort()).toEqual(members.map((m) => m.id).sort());
      expect(rest.body.nextCursor).toBeNull();
      expect((await get(`/v1/cooperatives/${coop}/campaigns`, admin)).body.items[0]).toMatchObject({ id: campaign, remainingBudget: '1' });
    });

    it("refuses a batch over budget as a whole, a grant over the cap, another cooperative's member and a changed amount, changing nothing", async () => {
      const campaign = (await post(`/v1/cooperatives/${coop}/campaigns`, operator, { name: 'Tight', budget: '5', perWalletCap: '2', grantExpiryDays: 7 })).body.id as string;
      const path = `/v1/cooperatives/${coop}/campaigns/${campaign}/grants`;
      const [a, b, c] = [await member(), await member(), await member()];
      expect((await post(path, admin, { grants: [{ memberId: a.id, amount: '2' }] })).status).toBe(201);
      // 2 + 2 of the 3 left: the second would fit alone, but the batch is refused as a whole.
      const overBudget = await refusedWithNothingChanged(() => post(path, admin, { grants: [{ memberId: b.id, amount: '2' }, { memberId: c.id, amount: '2' }] }), 422, 'INSUFFICIENT_FUNDS');
      expect(overBudget).toMatch(/only 3 CLOUD of the campaign's budget is left; nothing was granted/);
      await refusedWithNothingChanged(() => post(path, admin, { grants: [{ memberId: b.id, amount: '2.000001' }] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(path, admin, { grants: [{ memberId: b.id, amount: '1' }, { memberId: stranger.id, amount: '1' }] }), 404, 'NOT_FOUND');
      await refusedWithNothingChanged(() => post(path, admin, { grants: [{ memberId: a.id, amount: '1' }] }), 409, 'CONFLICT');
      await refusedWithNothingChanged(() => post(path, admin, { grants: [{ memberId: b.id, amount: '0' }] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(path, admin, { grants: [] }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(path, b.token, { grants: [{ memberId: b.id, amount: '1' }] }), 403, 'FORBIDDEN');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/campaigns`, admin, { name: 'Bad', budget: '1', perWalletCap: '2', grantExpiryDays: 7 }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/campaigns/${randomUUID()}/grants`, admin, { grants: [{ memberId: b.id, amount: '1' }] }), 404, 'NOT_FOUND');
    });

    it('spends granted credits before paid ones', async () => {
      const gil = await member();
      await buy(gil, 5);
      const campaign = (await post(`/v1/cooperatives/${coop}/campaigns`, admin, { name: 'Welcome', budget: '100', perWalletCap: '3', grantExpiryDays: 90 })).body.id as string;
      await post(`/v1/cooperatives/${coop}/campaigns/${campaign}/grants`, admin, { grants: [{ memberId: gil.id, amount: '3' }] });
      const service = await api.token({ subject: 'metering', role: 'service', cooperativeId: coop });
      expect((await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: gil.id, primitive: 'compute_hours', quantity: '2' })).status).toBe(201);
      const lots = (await balance(gil)).lots.map((l: { source: string; category: string; available: string }) => [l.source, l.category, l.available]);
      expect(lots).toEqual([['grant', 'promotional', '1'], ['purchase', 'paid', '5']]);
      expect((await post(`/v1/cooperatives/${coop}/usage`, service, { memberId: gil.id, primitive: 'compute_hours', quantity: '2' })).status).toBe(201);
      expect((await balance(gil)).lots.map((l: { source: string; available: string }) => [l.source, l.available])).toEqual([['purchase', '4']]);
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
    });
  });

  describe('burns and corrections', () => {
    it('lets operators burn with a reason, recorded with who and when; refuses everyone else and a missing reason', async () => {
      const hal = await member();
      await buy(hal, 4);
      const burned = await post(`/v1/cooperatives/${coop}/burns`, operator, { memberId: hal.id, amount: '1.5', reason: 'terms of service breach' });
      expect(burned.status).toBe(201);
      expect(burned.body).toMatchObject({ type: 'burn', metadata: { reason: 'terms of service breach', actor: 'op-ana' } });
      expect(Date.parse(burned.body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
      expect((await balance(hal)).available).toBe('2.5');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/burns`, operator, { memberId: hal.id, amount: '1' }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/burns`, operator, { memberId: hal.id, amount: '1', reason: ' ' }), 400, 'VALIDATION_ERROR');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/burns`, admin, { memberId: hal.id, amount: '1', reason: 'x' }), 403, 'FORBIDDEN');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/burns`, operator, { memberId: hal.id, amount: '3', reason: 'x' }), 422, 'INSUFFICIENT_FUNDS');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/burns`, operator, { memberId: stranger.id, amount: '1', reason: 'x' }), 404, 'NOT_FOUND');
    });

    it('applies a correction within the threshold at once, as a new transaction reversing the original', async () => {
      const [ivy, jon] = [await member(), await member()];
      await buy(ivy, 10);
      const sent = (await post(`/v1/cooperatives/${coop}/transfers`, ivy.token, { toMemberId: jon.id, amount: '4' })).body;
      const corrected = await post(`/v1/cooperatives/${coop}/corrections`, operator, { transactionId: sent.id, reason: 'sent to the wrong member' });
      expect(corrected.status).toBe(201);
      expect(corrected.body).toMatchObject({ transactionId: sent.id, amount: '4', requiresApproval: false, status: 'applied', proposedBy: 'op-ana', decidedBy: null, workflowId: null });
      const reversal = await api.pool.query(`SELECT type, reverses_transaction_id, metadata FROM transactions WHERE id = $1`, [corrected.body.correctionTransactionId]);
      expect(reversal.rows[0]).toMatchObject({ type: 'correction', reverses_transaction_id: sent.id, metadata: { reason: 'sent to the wrong member', correctionId: corrected.body.id, proposedBy: 'op-ana', approvedBy: null } });
      expect([(await balance(ivy)).available, (await balance(jon)).available]).toEqual(['10', '0']);
      // The original stands in history, corrected once.
      expect(await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/corrections`, operator, { transactionId: sent.id, reason: 'again' }), 409, 'CONFLICT')).toMatch(/already corrected/);
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/corrections`, operator, { transactionId: randomUUID(), reason: 'x' }), 404, 'NOT_FOUND');
      await refusedWithNothingChanged(() => post(`/v1/cooperatives/${coop}/corrections`, admin, { transactionId: sent.id, reason: 'x' }), 403, 'FORBIDDEN');
    });

    it('holds a correction above the threshold for a second operator: the proposer cannot approve it, another can; a rejection needs a reason', async () => {
      const [kim, lee] = [await member(), await member()];
      await buy(kim, 20);
      const sent = (await post(`/v1/cooperatives/${coop}/transfers`, kim.token, { toMemberId: lee.id, amount: '12' })).body;
      const proposed = await post(`/v1/cooperatives/${coop}/corrections`, operator, { transactionId: sent.id, reason: 'duplicate payout' });
      expect(proposed.body).toMatchObject({ amount: '12', requiresApproval: true, status: 'proposed', workflowId: `correction:${proposed.body.id}` });
      expect((await balance(lee)).available).toBe('12');
      const path = `/v1/cooperatives/${coop}/corrections/${proposed.body.id}`;
      await refusedWithNothingChanged(() => post(`${path}/approve`, operator, {}, null), 403, 'FORBIDDEN');
      await refusedWithNothingChanged(() => post(`${path}/reject`, secondOperator, {}, null), 400, 'VALIDATION_ERROR');
      const approved = await post(`${path}/approve`, secondOperator, {}, null);
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ status: 'applied', proposedBy: 'op-ana', decidedBy: 'op-ben' });
      expect((await balance(lee)).available).toBe('0');
      expect(await api.temporal.workflow.getHandle(`correction:${proposed.body.id}`).query(correctionState)).toMatchObject({ status: 'applied', decidedBy: 'op-ben' });
      await refusedWithNothingChanged(() => post(`${path}/approve`, secondOperator, {}, null), 409, 'CONFLICT');

      const another = (await post(`/v1/cooperatives/${coop}/transfers`, kim.token, { toMemberId: lee.id, amount: '6' })).body;
      const second = (await post(`/v1/cooperatives/${coop}/corrections`, secondOperator, { transactionId: another.id, reason: 'looks wrong' })).body;
      const rejected = await post(`/v1/cooperatives/${coop}/corrections/${second.id}/reject`, operator, { reason: 'the transfer was right' }, null);
      expect(rejected.body).toMatchObject({ status: 'rejected', decidedBy: 'op-ana', decisionReason: 'the transfer was right', correctionTransactionId: null });
      expect((await balance(lee)).available).toBe('6');
      const listed = await get(`/v1/cooperatives/${coop}/corrections?status=rejected`, operator);
      expect(listed.body.items.map((c: { id: string }) => c.id)).toContain(second.id);
      expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
    });
  });
});
