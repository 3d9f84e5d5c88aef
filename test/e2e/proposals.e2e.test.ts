import { createHash, randomUUID, verify } from 'node:crypto';
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

  /**
   * The receipt checked the way any member could, with node:crypto alone and the algorithm as the
   * README documents it, none of the project's code: canonical JSON (keys sorted, no spaces) of the
   * vote; leaf = SHA-256(0x00 ‖ it); node = SHA-256(0x01 ‖ left ‖ right); then the root against the
   * record, and the record's ed25519 signature over its canonical JSON.
   */
  function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
    if (value && typeof value === 'object') {
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    return JSON.stringify(value);
  }
  const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  function receiptHolds(receipt: { leaf: object; proof: Array<{ side: string; hash: string }>; signature: string; publicKey: string }, record: { cooperatives: Array<{ cooperativeId: string; votes: { merkleRoot: string } }> }, cooperativeId: string): boolean {
    let node = H(Buffer.from([0]), Buffer.from(canonicalJson(receipt.leaf), 'utf8'));
    for (const step of receipt.proof) node = step.side === 'left' ? H(Buffer.from([1]), Buffer.from(step.hash, 'hex'), node) : H(Buffer.from([1]), node, Buffer.from(step.hash, 'hex'));
    const signedRoot = record.cooperatives.find((c) => c.cooperativeId === cooperativeId)!.votes.merkleRoot;
    return node.toString('hex') === signedRoot && verify(null, Buffer.from(canonicalJson(record)), receipt.publicKey, Buffer.from(receipt.signature, 'base64'));
  }

  it('approves by majority with quorum, signs a record that verifies, and gives each voter a receipt that verifies independently', async () => {
    const id = await open(a.members[0]!.token);
    for (const m of a.members.slice(0, 3)) expect((await vote(m, id, 'yes')).status).toBe(200);
    // A changed vote counts last; a repeat changes nothing.
    expect((await vote(a.members[2]!, id, 'no')).status).toBe(200);
    expect((await vote(a.members[2]!, id, 'no')).status).toBe(200);
    const result = await final(id);
    expect(result.status).toBe('approved');
    expect(result.cooperatives[0].tally.totals).toMatchObject({ yes: '2', no: '1', eligible: '4' });
    const audit = await api.request('GET', `/v1/proposals/${id}/audit`, { token: a.admin });
    expect(audit.body.verified).toEqual({ [a.id]: true });
    expect(audit.body.audit.cooperatives[0].votes.count).toBe(3);
    const votes = await api.request('GET', `/v1/proposals/${id}/votes?limit=2`, { token: a.members[3]!.token });
    expect(votes.body.items).toHaveLength(2);
    const rest = await api.request('GET', `/v1/proposals/${id}/votes?limit=2&cursor=${votes.body.nextCursor}`, { token: a.members[3]!.token });
    const all = [...votes.body.items, ...rest.body.items];
    expect(rest.body.nextCursor).toBeNull();
    expect(new Map(all.map((v: { memberId: string; choice: string; version: number }) => [v.memberId, [v.choice, v.version]]))).toEqual(
      new Map([[a.members[0]!.id, ['yes', 1]], [a.members[1]!.id, ['yes', 1]], [a.members[2]!.id, ['no', 2]]]),
    );

    for (const [m, choice] of [[a.members[0]!, 'yes'], [a.members[2]!, 'no']] as const) {
      const receipt = await api.request('GET', `/v1/proposals/${id}/votes/${m.id}/receipt`, { token: m.token });
      expect(receipt.status).toBe(200);
      expect(receipt.body.leaf).toEqual({ proposalId: id, cooperativeId: a.id, memberId: m.id, choice, reason: null, weight: '1' });
      expect(receiptHolds(receipt.body, audit.body.audit, a.id)).toBe(true);
      // The same proof does not hold for another choice.
      expect(receiptHolds({ ...receipt.body, leaf: { ...receipt.body.leaf, choice: choice === 'yes' ? 'no' : 'yes' } }, audit.body.audit, a.id)).toBe(false);
    }
    expect((await api.request('GET', `/v1/proposals/${id}/votes/${a.members[3]!.id}/receipt`, { token: a.admin })).status).toBe(404);

    // The tally kept the tree, level by level: the root level holds the signed root.
    const levels = await api.pool.query<{ level: number; hashes: Buffer }>('SELECT level, hashes FROM proposal_vote_tree WHERE proposal_id = $1 ORDER BY level', [id]);
    expect(levels.rows.map((r) => r.hashes.length / 32)).toEqual([3, 2, 1]);
    expect(levels.rows.at(-1)!.hashes.toString('hex')).toBe(audit.body.audit.cooperatives[0].votes.merkleRoot);
    // A proposal tallied before trees were kept: its tree is built from the closed votes on the first receipt, and kept.
    await api.pool.query('DELETE FROM proposal_vote_tree WHERE proposal_id = $1', [id]);
    const rebuilt = await api.request('GET', `/v1/proposals/${id}/votes/${a.members[2]!.id}/receipt`, { token: a.members[2]!.token });
    expect(rebuilt.status).toBe(200);
    expect(receiptHolds(rebuilt.body, audit.body.audit, a.id)).toBe(true);
    expect((await api.pool.query('SELECT hashes FROM proposal_vote_tree WHERE proposal_id = $1 ORDER BY level', [id])).rows).toEqual(levels.rows.map((r) => ({ hashes: r.hashes })));
    // A stored tree that no longer leads to the signed root is never handed out.
    await api.pool.query("UPDATE proposal_vote_tree SET hashes = decode(repeat('00', length(hashes)), 'hex') WHERE proposal_id = $1 AND level = 1", [id]);
    expect((await api.request('GET', `/v1/proposals/${id}/votes/${a.members[2]!.id}/receipt`, { token: a.members[2]!.token })).status).toBe(500);
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
    // A refused vote wrote nothing: neither the vote nor its event.
    const written = async (id: string) =>
      (await api.pool.query("SELECT (SELECT count(*) FROM proposal_votes WHERE proposal_id = $1)::int AS votes, (SELECT count(*) FROM economic_events WHERE aggregate_id = $2 AND type = 'vote_cast')::int AS events", [id, id])).rows[0];
    expect(await written(plain)).toEqual({ votes: 0, events: 0 });
    expect(await written(consent)).toEqual({ votes: 1, events: 1 });
    const live = await api.request('GET', `/v1/proposals/${consent}/results`, { token: a.admin });
    expect(live.body.status).toBe('open');
    expect(live.body.cooperatives[0].tally.totals).toMatchObject({ objection: '1', participating: '1' });
    expect((await api.request('GET', `/v1/proposals/${consent}/audit`, { token: a.admin })).body.error.code).toBe('CONFLICT');
    // Votes are secret until the close unless the cooperative makes them public.
    expect((await api.request('GET', `/v1/proposals/${consent}/votes`, { token: a.members[1]!.token })).status).toBe(409);
    expect((await api.request('GET', `/v1/proposals/${consent}/votes/${a.members[0]!.id}/receipt`, { token: a.members[0]!.token })).status).toBe(409);
  });

  it('saves a draft that nobody can vote on, opens it later, and reads and lists proposals', async () => {
    await settings(a, 'majority', 3600);
    const created = await api.request('POST', '/v1/proposals', { token: a.members[0]!.token, body: { title: 'Later', description: 'A draft', draft: true }, headers: { 'idempotency-key': randomUUID() } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'draft', closesAt: null, workflowId: null });
    const id = created.body.id;
    expect((await vote(a.members[1]!, id, 'yes')).status).toBe(409);
    expect((await api.request('POST', `/v1/proposals/${id}/open`, { token: a.members[1]!.token })).status).toBe(403);
    const opened = await api.request('POST', `/v1/proposals/${id}/open`, { token: a.members[0]!.token });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ id, status: 'open', title: 'Later', description: 'A draft', proposer: a.members[0]!.id, stakeholders: [a.id], workflowId: `proposal:${id}` });
    expect((await api.request('POST', `/v1/proposals/${id}/open`, { token: a.admin })).body.closesAt).toBe(opened.body.closesAt);
    expect((await vote(a.members[1]!, id, 'yes')).status).toBe(200);

    const got = await api.request('GET', `/v1/proposals/${id}`, { token: a.members[2]!.token });
    expect(got.body).toMatchObject({ id, status: 'open', closesAt: opened.body.closesAt });
    expect((await api.request('GET', `/v1/proposals/${id}`, { token: b.members[0]!.token })).status).toBe(404);
    const seen: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const page: { body: { items: Array<{ id: string; status: string }>; nextCursor: string | null } } = await api.request('GET', `/v1/proposals?status=open&limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: a.admin });
      expect(page.body.items.every((p) => p.status === 'open')).toBe(true);
      seen.push(...page.body.items.map((p) => p.id));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await api.request('GET', '/v1/proposals?cursor=not-a-cursor', { token: a.admin })).status).toBe(400);
    expect((await api.request('GET', `/v1/proposals?status=open`, { token: b.admin })).body.items.map((p: { id: string }) => p.id)).not.toContain(id);
  });
});
