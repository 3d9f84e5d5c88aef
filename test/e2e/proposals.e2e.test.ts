import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/** Proposals over HTTP with 2-second voting windows (the voting period is a cooperative setting). */
describe('proposals', () => {
  let api: TestApi;
  let worker: TestWorker;
  interface Coop {
    id: string;
    admin: string;
    members: Array<{ id: string; token: string }>;
  }
  let a: Coop;
  let b: Coop;

  async function cooperative(size: number): Promise<Coop> {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const id = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `gov-${randomUUID().slice(0, 8)}`, name: 'Gov' } })).body.id;
    const admin = await api.token({ subject: `admin-${id}`, role: 'coop_admin', cooperativeId: id });
    const members = [];
    for (let i = 0; i < size; i++) {
      const m = (await api.request('POST', `/v1/cooperatives/${id}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
      members.push({ id: m, token: await api.token({ subject: m, role: 'member', cooperativeId: id }) });
    }
    return { id, admin, members };
  }

  async function settings(coop: Coop, model = 'majority') {
    const res = await api.request('PUT', '/v1/governance/settings', {
      token: coop.admin,
      body: { model, quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds: 2, delegationAllowed: true },
    });
    expect(res.status).toBe(200);
  }

  async function open(token: string, body: Record<string, unknown> = {}): Promise<string> {
    const res = await api.request('POST', '/v1/proposals', { token, body: { title: 'Buy a server', ...body }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  const vote = (member: { token: string }, id: string, choice: string, reason?: string) =>
    api.request('POST', `/v1/proposals/${id}/votes`, { token: member.token, body: { choice, ...(reason ? { reason } : {}) } });

  async function final(id: string, token = a.admin) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await api.request('GET', `/v1/proposals/${id}/results`, { token });
      if (res.body.status !== 'open') return res.body;
      if (Date.now() > deadline) throw new Error(`proposal ${id} still open`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    [a, b] = [await cooperative(4), await cooperative(2)];
  });
  beforeEach(async () => {
    await settings(a);
    await settings(b);
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('approves by majority with quorum, and signs a record that verifies', async () => {
    const id = await open(a.members[0]!.token);
    for (const m of a.members.slice(0, 3)) expect((await vote(m, id, 'yes')).status).toBe(200);
    const result = await final(id);
    expect(result.status).toBe('approved');
    const audit = await api.request('GET', `/v1/proposals/${id}/audit`, { token: a.admin });
    expect(audit.body.verified).toEqual({ [a.id]: true });
    expect(audit.body.audit.cooperatives[0].votes).toMatchObject({ [a.members[0]!.id]: { choice: 'yes' } });
  });

  it('rejects when the quorum is missed, and when no beats yes', async () => {
    const missed = await open(a.admin);
    await vote(a.members[0]!, missed, 'yes');
    expect((await final(missed)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: false });
    const lost = await open(a.admin);
    await vote(a.members[0]!, lost, 'yes');
    await vote(a.members[1]!, lost, 'no');
    await vote(a.members[2]!, lost, 'no');
    expect((await final(lost)).status).toBe('rejected');
    // The threshold edge: 2 yes of 4 is exactly half, and a majority must exceed half.
    const edge = await open(a.admin);
    for (const [i, choice] of ['yes', 'yes', 'no', 'no'].entries()) await vote(a.members[i]!, edge, choice);
    expect((await final(edge)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: true });
  });

  it('casts nothing for a delegation loop without a direct voter', async () => {
    const [m0, m1] = a.members;
    await api.request('POST', '/v1/delegations', { token: m0!.token, body: { delegateMemberId: m1!.id } });
    await api.request('POST', '/v1/delegations', { token: m1!.token, body: { delegateMemberId: m0!.id } });
    const id = await open(a.admin);
    await vote(a.members[2]!, id, 'yes');
    const result = await final(id);
    expect(result.cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: false, totals: { participating: '1' } });
    for (const m of [m0!, m1!]) await api.request('DELETE', '/v1/delegations', { token: m.token });
  });

  it('lets a member change a vote until close, refuses votes after close and from non-members', async () => {
    const id = await open(a.admin);
    await vote(a.members[0]!, id, 'no');
    await vote(a.members[0]!, id, 'yes');
    await vote(a.members[1]!, id, 'yes');
    const outsider = await vote(b.members[0]!, id, 'yes');
    expect(outsider.status).toBe(404);
    expect((await final(id)).status).toBe('approved');
    const late = await vote(a.members[2]!, id, 'no');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
  });

  it('fails consensus on a single block, and refuses a block where the model has none', async () => {
    const plain = await open(a.admin);
    expect((await vote(a.members[0]!, plain, 'block')).status).toBe(400);
    await settings(a, 'consensus');
    const id = await open(a.admin);
    for (const m of a.members.slice(0, 3)) await vote(m, id, 'yes');
    await vote(a.members[3]!, id, 'block');
    expect((await final(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', reason: 'blocked' });
  });

  it('passes sociocratic consent unless a reasoned objection stands', async () => {
    await settings(a, 'sociocratic_consent');
    const id = await open(a.admin);
    expect((await vote(a.members[0]!, id, 'objection')).status).toBe(400);
    expect((await vote(a.members[0]!, id, 'objection', 'nul \u0000 inside')).status).toBe(400);
    await vote(a.members[0]!, id, 'objection', 'it breaks our budget rule');
    await vote(a.members[1]!, id, 'yes');
    expect((await final(id)).status).toBe('rejected');
  });

  it('counts delegated votes through a chain, with a direct vote overriding', async () => {
    const [m0, m1, m2, m3] = a.members;
    // m0 → m1 → m2 (m2 votes yes); m3 delegates to m0 but votes no directly.
    for (const [from, to] of [[m0!, m1!], [m1!, m2!], [m3!, m0!]] as const) {
      expect((await api.request('POST', '/v1/delegations', { token: from.token, body: { delegateMemberId: to.id } })).status).toBe(200);
    }
    const id = await open(a.admin);
    await vote(m2!, id, 'yes');
    await vote(m3!, id, 'no');
    const result = await final(id);
    expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '3', no: '1', participating: '4' });
    const audit = (await api.request('GET', `/v1/proposals/${id}/audit`, { token: a.admin })).body.audit;
    expect(audit.cooperatives[0].delegations).toMatchObject({ [m0!.id]: m1!.id, [m1!.id]: m2!.id });
    for (const m of [m0!, m1!, m3!]) await api.request('DELETE', '/v1/delegations', { token: m.token });
  });

  it('needs every stakeholder cooperative to approve by its own rules', async () => {
    const split = await open(a.admin, { stakeholderCooperativeIds: [b.id] });
    for (const m of a.members.slice(0, 3)) await vote(m, split, 'yes');
    await vote(b.members[0]!, split, 'no');
    await vote(b.members[1]!, split, 'no');
    expect((await final(split)).status).toBe('rejected');

    const agreed = await open(a.admin, { stakeholderCooperativeIds: [b.id] });
    for (const m of [...a.members.slice(0, 3), ...b.members]) await vote(m, agreed, 'yes');
    expect((await final(agreed)).status).toBe('approved');
    const audit = await api.request('GET', `/v1/proposals/${agreed}/audit`, { token: b.admin });
    expect(audit.body.verified).toEqual({ [a.id]: true, [b.id]: true });
  });

  it('executes an approved credit transfer through the ledger once, carrying the proof', async () => {
    const [from, to] = a.members;
    await ledger.mint(api.pool, { cooperativeId: a.id, memberId: from!.id, amount: cloud(5), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `fund-${randomUUID()}` });
    const id = await open(a.admin, { action: { type: 'credit_transfer', cooperativeId: a.id, fromMemberId: from!.id, toMemberId: to!.id, amount: '1.5' } });
    for (const m of a.members.slice(0, 3)) await vote(m, id, 'yes');
    expect((await final(id)).status).toBe('approved');
    const { rows } = await api.pool.query(`SELECT metadata FROM transactions WHERE idempotency_key = $1`, [`proposal:${id}:execute`]);
    expect(rows).toHaveLength(1);
    expect(rows[0].metadata.memo).toMatch(/^governance proposal .+ record sha256 [0-9a-f]{64}$/);
    expect((await api.request('GET', `/v1/cooperatives/${a.id}/members/${to!.id}/balance`, { token: to!.token })).body.available).toBe('1.5');
    expect((await ledger.integrityReport(api.pool, a.id)).findings).toEqual([]);
  });

  it('closes an approved proposal whose action cannot execute, with the refusal in its signed record', async () => {
    const [from, to] = a.members;
    const id = await open(a.admin, { action: { type: 'credit_transfer', cooperativeId: a.id, fromMemberId: from!.id, toMemberId: to!.id, amount: '1000000' } });
    for (const m of a.members.slice(0, 3)) await vote(m, id, 'yes');
    expect((await final(id)).status).toBe('approved');
    const audit = await api.request('GET', `/v1/proposals/${id}/audit`, { token: a.admin });
    expect(audit.body).toMatchObject({ executionTransaction: null, verified: { [a.id]: true } });
    expect(audit.body.audit.executionError).toMatch(/Insufficient credits/);
  });
});
