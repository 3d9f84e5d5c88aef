import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * Every write route, sent the same request eight times at once (same key where the route takes one):
 * one result, never a 5xx. Creations name one resource; steps that can only happen once happen once.
 */
describe('concurrent identical writes', () => {
  const N = 8;
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let operator: string;
  let admin: string;
  let otherAdmin: string;
  let service: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    operator = await api.token({ subject: 'op', role: 'operator' });
    coop = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `burst-${randomUUID().slice(0, 8)}`, name: 'Burst' } })).body.id;
    [admin, otherAdmin, service] = await Promise.all([
      api.token({ subject: 'admin-a', role: 'coop_admin', cooperativeId: coop }),
      api.token({ subject: 'admin-b', role: 'coop_admin', cooperativeId: coop }),
      api.token({ subject: 'metering', role: 'service', cooperativeId: coop }),
    ]);
    const member = async () => {
      const id = (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
      return { id, token: await api.token({ subject: id, role: 'member', cooperativeId: coop }) };
    };
    [alice, bob] = [await member(), await member()];
    await ledger.mint(api.pool, { cooperativeId: coop, memberId: alice.id, amount: cloud(100), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'burst-seed' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  /** The same request N times at once; no answer is a 5xx. */
  async function burst(method: string, path: string, token: string, body?: unknown, key?: string) {
    const results = await Promise.all(Array.from({ length: N }, () => api.request(method, path, { token, ...(body === undefined ? {} : { body }), headers: key ? { 'idempotency-key': key } : {} })));
    expect(results.filter((r) => r.status >= 500).map((r) => [path, r.status, r.body])).toEqual([]);
    return results;
  }
  /** Creations: every answer names the one resource. */
  const oneResource = (results: Array<{ status: number; body: any }>) => {
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    return results[0]!.body.id as string;
  };

  it('creates one member, one rate card, one purchase, one proposal, one rule', async () => {
    oneResource(await burst('POST', `/v1/cooperatives/${coop}/members`, admin, { address: randomAddress() }));
    const rate = { rate: '1', infrastructureCost: '0.1' };
    oneResource(await burst('POST', `/v1/cooperatives/${coop}/rate-cards`, admin, { effectiveFrom: new Date(Date.now() + 86_400_000).toISOString(), rates: { compute_hours: rate, transfer_gb: rate, long_term_memory_gb_months: rate, short_term_memory_gb_hours: rate } }, randomUUID()));
    oneResource(await burst('POST', '/v1/credit-purchases', alice.token, { pack: 'starter' }, randomUUID()));
    oneResource(await burst('POST', '/v1/proposals', alice.token, { title: 'Once' }, randomUUID()));
    oneResource(await burst('POST', '/v1/revenue-rules', admin, { name: 'Once', shares: [{ name: 'all', memberId: alice.id, basisPoints: 10_000 }] }, randomUUID()));
  });

  it('registers one webhook endpoint, makes one secret per rotation, and disables and enables it once', async () => {
    const path = `/v1/cooperatives/${coop}/webhook-endpoints`;
    const created = await burst('POST', path, admin, { url: 'https://example.org/hook', eventTypes: ['*'] }, randomUUID());
    const id = oneResource(created);
    expect(new Set(created.map((r) => r.body.secret)).size).toBe(1);
    const rotated = await burst('POST', `${path}/${id}/rotate-secret`, admin, {}, randomUUID());
    expect(rotated.every((r) => r.status === 200)).toBe(true);
    expect(new Set(rotated.map((r) => r.body.secret)).size).toBe(1);
    expect((await api.pool.query('SELECT count(*)::int AS n FROM webhook_endpoint_secrets WHERE endpoint_id = $1', [id])).rows[0].n).toBe(2);
    for (const step of ['disable', 'enable']) {
      expect((await burst('POST', `${path}/${id}/${step}`, admin)).map((r) => r.status)).toEqual(Array(N).fill(200));
    }
  });

  it('moves credits once: transfers, usage, holds and their resolution', async () => {
    const before = (await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: alice.token })).body.available;
    oneResource(await burst('POST', `/v1/cooperatives/${coop}/transfers`, alice.token, { toMemberId: bob.id, amount: '1' }, randomUUID()));
    oneResource(await burst('POST', `/v1/cooperatives/${coop}/usage`, service, { memberId: alice.id, primitive: 'compute_hours', quantity: '1' }, randomUUID()));
    const hold = oneResource(await burst('POST', `/v1/cooperatives/${coop}/holds`, service, { memberId: alice.id, amount: '3' }, randomUUID()));
    const finalized = await burst('POST', `/v1/cooperatives/${coop}/holds/${hold}/finalize`, service, { amount: '2' });
    expect(finalized.map((r) => [r.status, r.body.status, r.body.finalAmount])).toEqual(Array(N).fill([200, 'finalized', '2']));
    const other = oneResource(await burst('POST', `/v1/cooperatives/${coop}/holds`, service, { memberId: alice.id, amount: '1' }, randomUUID()));
    expect((await burst('POST', `/v1/cooperatives/${coop}/holds/${other}/release`, service)).map((r) => r.status)).toEqual(Array(N).fill(200));
    const after = (await api.request('GET', `/v1/cooperatives/${coop}/members/${alice.id}/balance`, { token: alice.token })).body.available;
    expect(Number(before) - Number(after)).toBeCloseTo(1 + 1 + 2, 6);
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });

  it('takes governance steps once: settings, delegations, votes, rule steps and a distribution', async () => {
    const settings = { model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds: 3600, delegationAllowed: true };
    expect((await burst('PUT', '/v1/governance/settings', admin, settings)).map((r) => r.status)).toEqual(Array(N).fill(200));
    expect((await burst('POST', '/v1/delegations', bob.token, { delegateMemberId: alice.id })).map((r) => r.status)).toEqual(Array(N).fill(200));
    expect((await burst('DELETE', '/v1/delegations', bob.token)).map((r) => r.status)).toEqual(Array(N).fill(200));
    const proposal = (await api.request('POST', '/v1/proposals', { token: alice.token, body: { title: 'Vote once' }, headers: { 'idempotency-key': randomUUID() } })).body.id;
    expect((await burst('POST', `/v1/proposals/${proposal}/votes`, alice.token, { choice: 'yes' })).map((r) => r.status)).toEqual(Array(N).fill(200));
    // Concurrent duplicates of one vote leave one row, never changed.
    expect((await api.pool.query('SELECT choice, version FROM proposal_votes WHERE proposal_id = $1', [proposal])).rows).toEqual([{ choice: 'yes', version: 1 }]);
    // One member's different votes at once, with another member's: each answered; the vote that landed
    // last counts, with one version and one event per change.
    const changes = await Promise.all([
      ...['no', 'yes', 'no', 'abstain'].map((choice) => api.request('POST', `/v1/proposals/${proposal}/votes`, { token: alice.token, body: { choice } })),
      api.request('POST', `/v1/proposals/${proposal}/votes`, { token: bob.token, body: { choice: 'no' } }),
    ]);
    expect(changes.map((r) => r.status)).toEqual(Array(5).fill(200));
    const votes = (await api.pool.query('SELECT member_id, choice, version FROM proposal_votes WHERE proposal_id = $1', [proposal])).rows;
    const alices = votes.find((v) => v.member_id === alice.id);
    expect(votes.find((v) => v.member_id === bob.id)).toMatchObject({ choice: 'no', version: 1 });
    const events = (await api.pool.query(`SELECT payload->>'choice' AS choice FROM economic_events WHERE type = 'vote_cast' AND aggregate_id = $1 AND payload->>'memberId' = $2 ORDER BY sequence`, [proposal, alice.id])).rows;
    expect(events).toHaveLength(alices.version);
    expect(events.at(-1).choice).toBe(alices.choice);

    const rule = (await api.request('POST', '/v1/revenue-rules', { token: admin, body: { name: 'Steps', shares: [{ name: 'all', memberId: alice.id, basisPoints: 10_000 }] }, headers: { 'idempotency-key': randomUUID() } })).body.id;
    for (const [step, token, body] of [['submit', admin, {}], ['approve', otherAdmin, {}], ['override', operator, { reason: 'payroll' }]] as const) {
      const results = await burst('POST', `/v1/revenue-rules/${rule}/${step}`, token, body);
      // One step is taken; the twins find it taken (409) or see its result.
      expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      expect(results.some((r) => r.status === 200)).toBe(true);
    }
    const rows = await api.pool.query(`SELECT action FROM revenue_rule_events WHERE rule_id = $1 ORDER BY id`, [rule]);
    expect(rows.rows.map((r) => r.action)).toEqual(['submit', 'approve', 'override_cooldown']);
    // Revenue to distribute: credits bought and used.
    await ledger.redeemUsage(api.pool, { cooperativeId: coop, memberId: alice.id, primitive: 'compute_hours', quantity: 10_000_000n, idempotencyKey: `earn-${randomUUID()}` });
    oneResource(await burst('POST', '/v1/revenue-distributions', service, { distributionId: `d-${randomUUID()}`, amount: '1' }, randomUUID()));
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });

  it('sets terms, stakes, releases, grants, burns and corrects once', async () => {
    const count = async (sql: string, ...values: unknown[]) => (await api.pool.query(sql, values)).rows[0].n as number;
    const terms = { terms: [{ days: 30, multiplierBasisPoints: 10_000, autoRelease: true, earlyExitPenaltyBasisPoints: 500 }] };
    expect((await burst('PUT', `/v1/cooperatives/${coop}/staking-terms`, admin, terms)).map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(await count('SELECT count(*)::int AS n FROM staking_terms WHERE cooperative_id = $1', coop)).toBe(1);

    const position = oneResource(await burst('POST', `/v1/cooperatives/${coop}/stakes`, alice.token, { amount: '2', termDays: 30 }, randomUUID()));
    const exits = await burst('POST', `/v1/cooperatives/${coop}/stakes/${position}/unstake`, alice.token, { earlyExit: true });
    expect(exits.map((r) => [r.status, r.body.status, r.body.penalty])).toEqual(Array(N).fill([200, 'released', '0.1']));
    expect(await count(`SELECT count(*)::int AS n FROM transactions WHERE type = 'unstake' AND metadata->>'positionId' = $1`, position)).toBe(1);

    const campaign = oneResource(await burst('POST', `/v1/cooperatives/${coop}/campaigns`, admin, { name: 'Once', budget: '10', perWalletCap: '2', grantExpiryDays: 30 }, randomUUID()));
    const grants = await burst('POST', `/v1/cooperatives/${coop}/campaigns/${campaign}/grants`, admin, { grants: [{ memberId: alice.id, amount: '2' }, { memberId: bob.id, amount: '1' }] }, randomUUID());
    expect(grants.map((r) => [r.body.campaign.granted, r.body.grants.length])).toEqual(Array(N).fill(['3', 2]));
    expect(await count(`SELECT count(*)::int AS n FROM campaign_grants WHERE campaign_id = $1`, campaign)).toBe(2);
    // The same members under keys of their own: still one grant each.
    const other = await Promise.all(Array.from({ length: N }, () => api.request('POST', `/v1/cooperatives/${coop}/campaigns/${campaign}/grants`, { token: admin, body: { grants: [{ memberId: alice.id, amount: '2' }] }, headers: { 'idempotency-key': randomUUID() } })));
    expect(other.every((r) => r.status === 200 && r.body.created === 0)).toBe(true);

    oneResource(await burst('POST', `/v1/cooperatives/${coop}/burns`, operator, { memberId: bob.id, amount: '0.5', reason: 'once' }, randomUUID()));
    const sent = (await api.request('POST', `/v1/cooperatives/${coop}/transfers`, { token: alice.token, body: { toMemberId: bob.id, amount: '1' }, headers: { 'idempotency-key': randomUUID() } })).body.id;
    const correction = oneResource(await burst('POST', `/v1/cooperatives/${coop}/corrections`, operator, { transactionId: sent, reason: 'once' }, randomUUID()));
    expect(await count(`SELECT count(*)::int AS n FROM transactions WHERE reverses_transaction_id = $1`, sent)).toBe(1);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/corrections/${correction}`, { token: operator })).body.status).toBe('applied');
    expect((await ledger.integrityReport(api.pool, coop)).findings).toEqual([]);
  });
});
