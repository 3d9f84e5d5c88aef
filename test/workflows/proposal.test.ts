import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import * as ledger from '../../db/ledger';
import { proposalWorkflowId, type ProposalResults } from '../../workflows/proposal';
import { cloud, randomAddress } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The production default voting period. */
const WEEK_SECONDS = 7 * 86_400;

/**
 * Proposals through the real API with the production voting window (7 days, or what the cooperative
 * set), closed in virtual time: the real worker tallies at the deadline, runs the approved action
 * through the ledger and signs the record, on the run's PostgreSQL. For proposals in `lostResults`,
 * the first attempt of each closing step commits and then fails, as when a worker dies after the COMMIT.
 */
describe('proposal voting window in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  interface Coop {
    id: string;
    admin: string;
    members: Array<{ id: string; token: string }>;
  }
  let a: Coop;
  let b: Coop;
  const lostResults = new Set<string>();
  /** Runs `step`, then, on a first attempt for a proposal in lostResults, fails as if its result were lost. */
  const losingFirstResult = async <T>(proposalId: string, step: () => Promise<T>): Promise<T> => {
    const result = await step();
    if (lostResults.has(proposalId) && Context.current().info.attempt === 1) throw new Error('connection lost after COMMIT');
    return result;
  };

  async function cooperative(size: number): Promise<Coop> {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `vgov-${randomUUID().slice(0, 8)}`, name: 'Gov' } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const admin = await api.token({ subject: `admin-${id}`, role: 'coop_admin', cooperativeId: id });
    const members = [];
    for (let i = 0; i < size; i++) {
      const m = (await api.request('POST', `/v1/cooperatives/${id}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
      members.push({ id: m, token: await api.token({ subject: m, role: 'member', cooperativeId: id }) });
    }
    return { id, admin, members };
  }

  async function settings(coop: Coop, model = 'majority', votingPeriodSeconds = WEEK_SECONDS) {
    const res = await api.request('PUT', '/v1/governance/settings', {
      token: coop.admin,
      body: { model, quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds, delegationAllowed: true },
    });
    expect(res.status).toBe(200);
  }

  /** Opens a proposal; the API computes its close from its clock, here the test server's (see onVirtualClock). */
  async function open(token: string, body: Record<string, unknown> = {}): Promise<{ id: string; closesAt: number }> {
    const res = await stack.onVirtualClock(() => api.request('POST', '/v1/proposals', { token, body: { title: 'Buy a server', ...body }, headers: { 'idempotency-key': randomUUID() } }));
    expect(res.status).toBe(201);
    return { id: res.body.id, closesAt: Date.parse(res.body.closesAt) };
  }
  const vote = (member: { token: string }, id: string, choice: string, reason?: string) =>
    api.request('POST', `/v1/proposals/${id}/votes`, { token: member.token, body: { choice, ...(reason ? { reason } : {}) } });
  /** Each member votes `choice`, all at once. */
  async function votes(members: Array<{ token: string }>, id: string, choice: string) {
    const answers = await Promise.all(members.map((m) => vote(m, id, choice)));
    expect(answers.map((r) => r.status)).toEqual(members.map(() => 200));
  }

  /** Lets the window pass (awaiting the workflow lets time skip to its close), then reads the final results through the API. */
  async function close(id: string, token = a.admin) {
    const result = await stack.client.workflow.getHandle<() => Promise<ProposalResults>>(proposalWorkflowId(id)).result();
    const res = await api.request('GET', `/v1/proposals/${id}/results`, { token });
    expect(res.body.status).toBe(result.status);
    return res.body;
  }
  const audit = async (id: string, token = a.admin) => (await api.request('GET', `/v1/proposals/${id}/audit`, { token })).body;
  /** Every direct vote of a closed proposal, through the paginated list. */
  async function votesOf(id: string, token = a.admin) {
    const all: Array<{ memberId: string; choice: string; reason: string | null; weight: string; version: number }> = [];
    for (let cursor: string | null = null; ; ) {
      const res = await api.request('GET', `/v1/proposals/${id}/votes?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(res.status).toBe(200);
      all.push(...res.body.items);
      if (!res.body.nextCursor) return all;
      cursor = res.body.nextCursor;
    }
  }
  const delegate = async (from: { token: string }, to: { id: string }) =>
    expect((await api.request('POST', '/v1/delegations', { token: from.token, body: { delegateMemberId: to.id } })).status).toBe(200);
  const undelegate = async (...members: Array<{ token: string }>) => {
    for (const m of members) await api.request('DELETE', '/v1/delegations', { token: m.token });
  };

  beforeAll(async () => {
    stack = await startTimeSkippingStack({
      api: true,
      activityOverrides: (real) => ({
        closeVoting: (proposalId) => losingFirstResult(proposalId, () => real.closeVoting(proposalId)),
        tallyProposal: (proposalId) => losingFirstResult(proposalId, () => real.tallyProposal(proposalId)),
        recordProposalOutcome: (input) => losingFirstResult(input.proposalId, () => real.recordProposalOutcome(input)),
      }),
    });
    api = stack.api!;
    [a, b] = [await cooperative(4), await cooperative(2)];
  });
  beforeEach(async () => {
    await settings(a);
    await settings(b);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stays open for the 7-day window, counts a vote cast a minute before the close, and refuses one after it', async () => {
    const before = await stack.now();
    const { id, closesAt } = await open(a.members[0]!.token);
    const after = await stack.now();
    // Seven days from the request (the API's clock and the server's agree to the millisecond; a second of slack for rounding).
    expect(closesAt).toBeGreaterThanOrEqual(before + 7 * DAY - 1000);
    expect(closesAt).toBeLessThanOrEqual(after + 7 * DAY + 1000);
    await votes(a.members.slice(0, 2), id, 'yes');

    await stack.sleepUntil(closesAt - MINUTE);
    expect(await stack.firedTimers(proposalWorkflowId(id))).toBe(0);
    expect((await api.request('GET', `/v1/proposals/${id}/results`, { token: a.admin })).body.status).toBe('open');
    // The deciding vote, on the last minute: 3 of 4 for.
    await votes([a.members[2]!], id, 'yes');

    const result = await close(id);
    expect(result.status).toBe('approved');
    expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '3', participating: '3' });
    expect((await stack.client.workflow.getHandle(proposalWorkflowId(id)).describe()).closeTime!.getTime()).toBeGreaterThanOrEqual(closesAt);

    const late = await vote(a.members[3]!, id, 'no');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
    const record = await audit(id);
    expect(record.verified).toEqual({ [a.id]: true });
    expect(record.audit.cooperatives[0].votes.count).toBe(3);
    expect(await votesOf(id)).toHaveLength(3);
  });

  it('closes and records its outcome once when each closing step runs again after it committed', async () => {
    const { id } = await open(a.admin);
    lostResults.add(id);
    await votes(a.members.slice(0, 3), id, 'yes');
    const result = await close(id);
    expect(result.status).toBe('approved');
    const history = await stack.client.workflow.getHandle(proposalWorkflowId(id)).fetchHistory();
    expect(history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1, 2, 2, 2]);
    const decided = await stack.pool.query(`SELECT cooperative_id FROM outbox WHERE event_type = 'proposal.decided' AND aggregate_id = $1`, [id]);
    expect(decided.rows).toEqual([{ cooperative_id: a.id }]);
    expect((await audit(id)).verified).toEqual({ [a.id]: true });
  });

  it('closes at the end of the period the cooperative configured', async () => {
    await settings(a, 'majority', 30 * 86_400);
    const before = await stack.now();
    const { id, closesAt } = await open(a.admin);
    expect(closesAt).toBeGreaterThanOrEqual(before + 30 * DAY - 1000);
    await votes(a.members.slice(0, 3), id, 'yes');
    await stack.sleepUntil(closesAt - MINUTE);
    expect(await stack.firedTimers(proposalWorkflowId(id))).toBe(0);
    expect((await close(id)).status).toBe('approved');
    expect((await stack.client.workflow.getHandle(proposalWorkflowId(id)).describe()).closeTime!.getTime()).toBeGreaterThanOrEqual(closesAt);
  });

  it("gives each stakeholder cooperative its own voting period, and closes when the longest has passed", async () => {
    await settings(a, 'majority', 86_400);
    const before = await stack.now();
    const { id, closesAt } = await open(a.admin, { stakeholderCooperativeIds: [b.id] });
    // B's week, not A's day, is the proposal's close.
    expect(closesAt).toBeGreaterThanOrEqual(before + 7 * DAY - 1000);
    await votes(a.members.slice(0, 2), id, 'yes');
    await stack.sleepUntil(before + 2 * DAY);
    const late = await vote(a.members[2]!, id, 'yes');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
    await votes(b.members, id, 'yes');
    const result = await close(id);
    expect(result.status).toBe('approved');
    expect(result.cooperatives.find((c: { cooperativeId: string }) => c.cooperativeId === a.id).tally.totals).toMatchObject({ yes: '2' });
  });

  it('rejects when the quorum is missed', async () => {
    const { id } = await open(a.admin);
    await votes([a.members[0]!], id, 'yes');
    expect((await close(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: false });
  });

  it('rejects when no beats yes', async () => {
    const { id } = await open(a.admin);
    await votes([a.members[0]!], id, 'yes');
    await votes(a.members.slice(1, 3), id, 'no');
    expect((await close(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: true });
  });

  it('rejects at the threshold edge: 2 yes of 4 is exactly half, and a majority must exceed half', async () => {
    const { id } = await open(a.admin);
    await Promise.all([votes(a.members.slice(0, 2), id, 'yes'), votes(a.members.slice(2, 4), id, 'no')]);
    expect((await close(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: true, totals: { yes: '2', no: '2' } });
  });

  it('counts a changed vote as last cast', async () => {
    const { id } = await open(a.admin);
    await votes([a.members[0]!], id, 'no');
    await stack.sleep(3 * DAY);
    await votes([a.members[0]!], id, 'yes');
    await votes([a.members[1]!], id, 'yes');
    const result = await close(id);
    expect(result.status).toBe('approved');
    expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '2', no: '0' });
    expect((await votesOf(id)).find((v) => v.memberId === a.members[0]!.id)).toMatchObject({ choice: 'yes', version: 2 });
  });

  it('fails consensus on a single block', async () => {
    await settings(a, 'consensus');
    const { id } = await open(a.admin);
    await votes(a.members.slice(0, 3), id, 'yes');
    await votes([a.members[3]!], id, 'block');
    expect((await close(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', reason: 'blocked' });
  });

  it('rejects under sociocratic consent when a reasoned objection stands', async () => {
    await settings(a, 'sociocratic_consent');
    const { id } = await open(a.admin);
    expect((await vote(a.members[0]!, id, 'objection', 'it breaks our budget rule')).status).toBe(200);
    await votes([a.members[1]!], id, 'yes');
    expect((await close(id)).status).toBe('rejected');
    expect((await votesOf(id)).find((v) => v.memberId === a.members[0]!.id)).toMatchObject({ choice: 'objection', reason: 'it breaks our budget rule' });
  });

  it('counts delegated votes through a chain as the delegations stand at the close, with a direct vote overriding', async () => {
    const [m0, m1, m2, m3] = a.members as [Coop['members'][0], Coop['members'][0], Coop['members'][0], Coop['members'][0]];
    const { id } = await open(a.admin);
    await votes([m2], id, 'yes');
    await votes([m3], id, 'no');
    // Delegations made while the window is open count: m0 → m1 → m2 (who voted yes); m3 delegates to m0 but voted no itself.
    await stack.sleep(6 * DAY);
    await delegate(m0, m1);
    await delegate(m1, m2);
    await delegate(m3, m0);
    try {
      const result = await close(id);
      expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '3', no: '1', participating: '4' });
      const record = (await audit(id)).audit;
      expect(record.cooperatives[0].delegations.count).toBe(3);
      const frozen = (await api.request('GET', `/v1/proposals/${id}/delegations`, { token: a.admin })).body.items;
      expect(frozen).toEqual(expect.arrayContaining([{ cooperativeId: a.id, delegator: m0.id, delegate: m1.id }, { cooperativeId: a.id, delegator: m1.id, delegate: m2.id }, { cooperativeId: a.id, delegator: m3.id, delegate: m0.id }]));
    } finally {
      await undelegate(m0, m1, m3);
    }
  });

  it('casts nothing for a delegation loop without a direct voter', async () => {
    const [m0, m1, m2] = a.members as [Coop['members'][0], Coop['members'][0], Coop['members'][0]];
    await delegate(m0, m1);
    await delegate(m1, m0);
    try {
      const { id } = await open(a.admin);
      await votes([m2], id, 'yes');
      expect((await close(id)).cooperatives[0].tally).toMatchObject({ outcome: 'rejected', quorumMet: false, totals: { participating: '1' } });
    } finally {
      await undelegate(m0, m1);
    }
  });

  it('is rejected when another stakeholder cooperative rejects it by its own rules', async () => {
    const { id } = await open(a.admin, { stakeholderCooperativeIds: [b.id] });
    await votes(a.members.slice(0, 3), id, 'yes');
    await votes(b.members, id, 'no');
    const result = await close(id);
    expect(result.status).toBe('rejected');
    expect(result.cooperatives.map((c: { tally: { outcome: string } }) => c.tally.outcome)).toEqual(['approved', 'rejected']);
  });

  it('is approved when every stakeholder cooperative approves, and each signs the record', async () => {
    const { id } = await open(a.admin, { stakeholderCooperativeIds: [b.id] });
    await votes([...a.members.slice(0, 3), ...b.members], id, 'yes');
    expect((await close(id, b.admin)).status).toBe('approved');
    expect((await audit(id, b.admin)).verified).toEqual({ [a.id]: true, [b.id]: true });
  });

  it('executes an approved credit transfer through the ledger once, carrying the proof', async () => {
    const [from, to] = a.members;
    await ledger.mint(stack.pool, { cooperativeId: a.id, memberId: from!.id, amount: cloud(5), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `fund-${randomUUID()}` });
    const { id } = await open(a.admin, { action: { type: 'credit_transfer', cooperativeId: a.id, fromMemberId: from!.id, toMemberId: to!.id, amount: '1.5' } });
    await votes(a.members.slice(0, 3), id, 'yes');
    const result = await close(id);
    expect(result.status).toBe('approved');
    const { rows } = await stack.pool.query(`SELECT id, metadata FROM transactions WHERE idempotency_key = $1`, [`proposal:${id}:execute`]);
    expect(rows).toHaveLength(1);
    expect(result.executionTransaction).toBe(rows[0].id);
    expect(rows[0].metadata.memo).toMatch(/^governance proposal .+ record sha256 [0-9a-f]{64}$/);
    expect((await api.request('GET', `/v1/cooperatives/${a.id}/members/${to!.id}/balance`, { token: to!.token })).body.available).toBe('1.5');
    expect((await audit(id)).executionTransaction).toBe(rows[0].id);
    expect((await ledger.integrityReport(stack.pool, a.id)).findings).toEqual([]);
  });

  it('closes an approved proposal whose action cannot execute, with the refusal in its signed record', async () => {
    const [from, to] = a.members;
    const before = await ledger.memberBalance(stack.pool, a.id, to!.id);
    const { id } = await open(a.admin, { action: { type: 'credit_transfer', cooperativeId: a.id, fromMemberId: from!.id, toMemberId: to!.id, amount: '1000000' } });
    await votes(a.members.slice(0, 3), id, 'yes');
    expect((await close(id)).status).toBe('approved');
    const record = await audit(id);
    expect(record).toMatchObject({ executionTransaction: null, verified: { [a.id]: true } });
    expect(record.audit.executionError).toMatch(/Insufficient credits/);
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE idempotency_key = $1`, [`proposal:${id}:execute`]);
    expect(rows[0].n).toBe(0);
    expect((await ledger.memberBalance(stack.pool, a.id, to!.id)).available).toBe(before.available);
    expect((await ledger.integrityReport(stack.pool, a.id)).findings).toEqual([]);
  });

  it('weighs votes by the decimal weights admins set, snapshotted when the proposal opens', async () => {
    const setWeight = (m: { id: string }, voteWeight: string) => api.request('PUT', `/v1/governance/vote-weights/${m.id}`, { token: a.admin, body: { voteWeight } });
    expect((await setWeight(a.members[0]!, '2.5')).body).toEqual({ memberId: a.members[0]!.id, voteWeight: '2.5' });
    expect((await setWeight(a.members[1]!, '0.33333')).status).toBe(400);
    expect((await api.request('PUT', `/v1/governance/vote-weights/${b.members[0]!.id}`, { token: a.admin, body: { voteWeight: '2' } })).status).toBe(404);
    try {
      const { id } = await open(a.admin);
      // Changed after opening: does not count in this proposal.
      await setWeight(a.members[0]!, '0.0001');
      // 2.5 yes against 1 + 1 no: approved; eligible 2.5 + 3 × 1 = 5.5.
      await votes([a.members[0]!], id, 'yes');
      await votes(a.members.slice(1, 3), id, 'no');
      const result = await close(id);
      expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '2.5', no: '2', eligible: '5.5', participating: '4.5' });
      expect(result.status).toBe('approved');
      expect((await votesOf(id)).find((v) => v.memberId === a.members[0]!.id)?.weight).toBe('2.5');
    } finally {
      for (const m of a.members) await setWeight(m, '1');
    }
  });

  it('decides a budget above the cooperative\'s threshold by supermajority, and one at it by majority', async () => {
    const [from, to] = a.members;
    const res = await api.request('PUT', '/v1/governance/settings', {
      token: a.admin,
      body: { model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 7000, comparison: '>=' }, votingPeriodSeconds: WEEK_SECONDS, delegationAllowed: true, supermajorityAbove: '100' },
    });
    expect(res.body.supermajorityAbove).toBe('100');
    const action = (amount: string) => ({ action: { type: 'credit_transfer', cooperativeId: a.id, fromMemberId: from!.id, toMemberId: to!.id, amount } });
    const big = await open(a.admin, action('100.000001'));
    const small = await open(a.admin, action('100'));
    // 2 yes of 3 cast is 0.667: more than half, less than 0.7.
    for (const id of [big.id, small.id]) {
      await votes(a.members.slice(0, 2), id, 'yes');
      await votes([a.members[2]!], id, 'no');
    }
    const [bigResult, smallResult] = [await close(big.id), await close(small.id)];
    expect(bigResult.status).toBe('rejected');
    expect(bigResult.cooperatives[0].tally.reason).toMatch(/against supermajority/);
    expect((await audit(big.id)).audit.cooperatives[0].settings.model).toBe('supermajority');
    expect(smallResult.status).toBe('approved');
    expect((await audit(small.id)).audit.cooperatives[0].settings.model).toBe('majority');
  });
});
