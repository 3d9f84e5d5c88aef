import { randomUUID } from 'node:crypto';
import { randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Proposals over HTTP in real time: one proposal through a 2-second voting window (the voting period is
 * a cooperative setting) to its signed record, and the checks that never wait for a close. Every outcome
 * decided at the close (quorum, thresholds, models, delegation, several cooperatives, executed actions)
 * is tested with the production window in virtual time, in test/workflows/proposal.test.ts.
 */
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

  // Windows that close within the test: long enough for a few votes on a machine busy with the whole suite (2 s was not).
  async function settings(coop: Coop, model = 'majority', votingPeriodSeconds = 8) {
    const res = await api.request('PUT', '/v1/governance/settings', {
      token: coop.admin,
      body: { model, quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds, delegationAllowed: true },
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

  it('refuses a vote from outside the stakeholders, a block where the model has none, and an objection without its reason', async () => {
    // Nothing here waits for the close: a long window, so no vote can arrive late.
    await settings(a, 'majority', 3600);
    const plain = await open(a.admin);
    expect((await vote(b.members[0]!, plain, 'yes')).status).toBe(404);
    const block = await vote(a.members[0]!, plain, 'block');
    expect(block.status).toBe(400);
    expect(block.body.error.code).toBe('VALIDATION_ERROR');
    await settings(a, 'sociocratic_consent', 3600);
    const consent = await open(a.admin);
    expect((await vote(a.members[0]!, consent, 'objection')).status).toBe(400);
    expect((await vote(a.members[0]!, consent, 'objection', 'nul \u0000 inside')).status).toBe(400);
    expect((await vote(a.members[0]!, consent, 'objection', 'it breaks our budget rule')).status).toBe(200);
    const live = await api.request('GET', `/v1/proposals/${consent}/results`, { token: a.admin });
    expect(live.body.status).toBe('open');
    expect((await api.request('GET', `/v1/proposals/${consent}/audit`, { token: a.admin })).body.error.code).toBe('CONFLICT');
  });
});
