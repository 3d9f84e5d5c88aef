import { randomUUID } from 'node:crypto';
import { createBooking } from '../../db/bookings';
import { createCampaign } from '../../db/campaigns';
import { proposeCorrection } from '../../db/corrections';
import { createPurchase } from '../../db/credit-purchases';
import { recordDeadLetter } from '../../db/dead-letter';
import * as ledger from '../../db/ledger';
import { createRateCard } from '../../db/rate-cards';
import { runReconciliation } from '../../db/reconciliations';
import { createResource } from '../../db/resources';
import { createRule } from '../../db/revenue-rules';
import { setDelegation } from '../../db/governance';
import { secretBox } from '../../db/secret-box';
import { setManualPrice } from '../../db/token-prices';
import { createEndpoint } from '../../db/webhook-endpoints';
import { V1_RATES } from '../../domain/rate-card';
import { connectTestChain, type TestChain } from '../harness/chain';
import { addMember, cloud, provisionCooperative, randomAddress } from '../harness/ledger';
import type { HttpResponse } from '../harness/http-client';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * Every list endpoint paged to the end while rows are written to it: each page is fetched together
 * with a write, so writes land between and during page reads. Every row that existed before paging
 * began is seen exactly once, and no row is seen twice. The endpoints come from the OpenAPI document
 * (every GET with a `cursor` or `after` parameter), so a new list without a case here fails the test.
 */
describe('paging every list while writing', () => {
  let api: TestApi;
  let chain: TestChain;
  let coop: string;
  let admin: string;
  let operator: string;
  let boundOperator: string;
  let alice: string;
  let campaign: string;
  /** An open proposal whose votes are public, and members of its electorate who have not voted yet. */
  let proposal: string;
  const voters: string[] = [];
  const unique = { rateCardDay: 0, reconciliationMinute: 0, bookingHour: 0 };
  /** A resource of the cooperative, booked hour after hour (without its workflow: the list is what is paged). */
  let resource: string;

  beforeAll(async () => {
    [api, chain] = await Promise.all([startTestApi(), connectTestChain()]);
    coop = await provisionCooperative(api.pool);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    operator = await api.token({ subject: 'ops', role: 'operator' });
    boundOperator = await api.token({ subject: 'ops', role: 'operator', cooperativeId: coop });
    alice = await addMember(api.pool, coop);
    await mint(alice, 1000);
    campaign = (await createCampaign(api.pool, {
      id: randomUUID(), cooperativeId: coop, name: 'paging', budget: cloud(100_000), perWalletCap: cloud(1), grantExpiryDays: 30, createdBy: 'admin', idempotencyKey: randomUUID(),
    })).campaign.id;
    const settings = await api.request('PUT', '/v1/governance/settings', {
      token: admin,
      body: {
        model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' },
        supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds: 3600, delegationAllowed: true, votesPublic: true,
      },
    });
    if (settings.status !== 200) throw new Error(`governance settings: ${settings.status} ${JSON.stringify(settings.body)}`);
    for (let n = 0; n < 40; n++) voters.push(await addMember(api.pool, coop));
    proposal = await propose();
    resource = (await createResource(api.pool, {
      id: randomUUID(), cooperativeId: coop, type: 'space', title: 'Paging room', description: '', location: 'Lyon', schedule: [], ranges: [[0, 10080]],
      accessModel: 'open', costModel: 'free', costAmount: 0n, createdBy: 'admin', idempotencyKey: randomUUID(),
    })).resource.id;
  });
  afterAll(async () => {
    await api?.close();
  });

  const mint = (memberId: string, amount = 1) =>
    ledger.mint(api.pool, { cooperativeId: coop, memberId, amount: cloud(amount), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: randomUUID() });

  async function propose(): Promise<string> {
    const res = await api.request('POST', '/v1/proposals', { token: admin, body: { title: 'Paging' }, headers: { 'idempotency-key': randomUUID() } });
    if (res.status !== 201) throw new Error(`proposal: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  /** A POST through the API that must create what it names. */
  async function created(path: string, body: Record<string, unknown>): Promise<void> {
    const res = await api.request('POST', path, { token: admin, headers: { 'idempotency-key': randomUUID() }, body });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  async function castNextVote(): Promise<void> {
    const voter = voters.shift()!;
    const res = await api.request('POST', `/v1/proposals/${proposal}/votes`, { token: await api.token({ subject: voter, role: 'member', cooperativeId: coop }), body: { choice: 'yes' } });
    if (res.status !== 200 && res.status !== 201) throw new Error(`vote: ${res.status} ${JSON.stringify(res.body)}`);
  }

  interface ListCase {
    /** The OpenAPI path of the list. */
    route: string;
    path: () => string;
    token: () => string;
    /** Adds one row the list shows. */
    write: () => Promise<unknown>;
    /** A row's identity in the list (default its id). */
    key?: (item: any) => string;
  }

  const cases: ListCase[] = [
    { route: '/v1/cooperatives', path: () => '/v1/cooperatives', token: () => operator, write: () => provisionCooperative(api.pool) },
    { route: '/v1/directory/cooperatives', path: () => '/v1/directory/cooperatives', token: () => admin, write: () => provisionCooperative(api.pool) },
    { route: '/v1/cooperatives/{cooperativeId}/members', path: () => `/v1/cooperatives/${coop}/members`, token: () => admin, write: () => addMember(api.pool, coop) },
    {
      route: '/v1/cooperatives/{cooperativeId}/holds', path: () => `/v1/cooperatives/${coop}/holds`, token: () => admin,
      write: () => ledger.reserveHold(api.pool, { cooperativeId: coop, memberId: alice, amount: cloud(0.01), ttlSeconds: 3600, idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/credit-purchases', path: () => `/v1/cooperatives/${coop}/credit-purchases`, token: () => admin,
      write: () => createPurchase(api.pool, { id: randomUUID(), cooperativeId: coop, memberId: alice, amount: cloud(1), amountCents: 1000n, idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/revenue-rules', path: () => `/v1/cooperatives/${coop}/revenue-rules`, token: () => admin,
      write: () => createRule(api.pool, { id: randomUUID(), cooperativeId: coop, name: 'rule', shares: [{ name: 'all', memberId: alice, basisPoints: 10_000 }], proposer: 'admin', idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/rate-cards', path: () => `/v1/cooperatives/${coop}/rate-cards`, token: () => admin,
      write: () => createRateCard(api.pool, { cooperativeId: coop, effectiveFrom: new Date(Date.now() + (++unique.rateCardDay) * 86_400_000), rates: V1_RATES, idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/members/{memberId}/transactions', path: () => `/v1/cooperatives/${coop}/members/${alice}/transactions`, token: () => admin,
      write: () => mint(alice),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/stakes', path: () => `/v1/cooperatives/${coop}/stakes`, token: () => admin,
      write: () => ledger.stake(api.pool, { cooperativeId: coop, memberId: alice, positionId: randomUUID(), amount: cloud(0.01), termDays: 30, stakedAt: new Date(), idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/campaigns', path: () => `/v1/cooperatives/${coop}/campaigns`, token: () => admin,
      write: () => createCampaign(api.pool, { id: randomUUID(), cooperativeId: coop, name: 'c', budget: cloud(10), perWalletCap: cloud(1), grantExpiryDays: 30, createdBy: 'admin', idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/campaigns/{campaignId}/grants', path: () => `/v1/cooperatives/${coop}/campaigns/${campaign}/grants`, token: () => admin,
      write: async () => ledger.grantBatch(api.pool, { cooperativeId: coop, campaignId: campaign, grants: [{ memberId: await addMember(api.pool, coop), amount: cloud(0.5) }], actor: 'admin', idempotencyKey: randomUUID() }),
      key: (g) => g.memberId,
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/corrections', path: () => `/v1/cooperatives/${coop}/corrections`, token: () => operator,
      write: async () => {
        const minted = await mint(alice);
        return proposeCorrection(api.pool, { id: randomUUID(), cooperativeId: coop, transactionId: minted.transaction.id, reason: 'paging', proposedBy: 'ops', threshold: cloud(100), idempotencyKey: randomUUID() });
      },
    },
    {
      route: '/v1/operations/dlq', path: () => '/v1/operations/dlq', token: () => boundOperator,
      write: () => recordDeadLetter(api.pool, randomUUID(), { operationType: 'webhook_delivery', businessKey: randomUUID(), cooperativeId: coop, payload: {}, lastError: 'paging' }),
    },
    {
      route: '/v1/operations/reconciliations', path: () => `/v1/operations/reconciliations?cooperativeId=${coop}`, token: () => operator,
      // Runs keyed by instants spread over the past, so new ones land between the pages already read.
      write: () =>
        runReconciliation(api.pool, { kind: 'streams', cooperativeId: coop, scheduledFor: new Date(Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e9) * 1000 + ++unique.reconciliationMinute) }, async () => ({ checks: [] })),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/token-prices', path: () => `/v1/cooperatives/${coop}/token-prices`, token: () => admin,
      write: () => setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: 10n ** 18n, observedAt: new Date().toISOString(), reason: 'paging', setBy: 'admin', idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/webhook-endpoints', path: () => `/v1/cooperatives/${coop}/webhook-endpoints`, token: () => admin,
      write: () => createEndpoint(api.pool, secretBox(api.config.webhooks.secretsKey), { cooperativeId: coop, url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], idempotencyKey: randomUUID() }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/streams', path: () => `/v1/cooperatives/${coop}/streams`, token: () => admin,
      // A flow that does not run yet registers at rate 0: no chain transaction is needed.
      write: async () => {
        const res = await api.request('POST', `/v1/cooperatives/${coop}/streams`, {
          token: admin, headers: { 'idempotency-key': randomUUID() }, body: { token: chain.superToken, sender: randomAddress(), receiver: randomAddress(), direction: 'inbound', priceSources: [{ type: 'manual' }] },
        });
        if (res.status !== 201) throw new Error(`stream registration: ${res.status} ${JSON.stringify(res.body)}`);
      },
    },
    { route: '/v1/proposals', path: () => '/v1/proposals', token: () => admin, write: propose },
    {
      route: '/v1/events', path: () => `/v1/events?cooperative=${coop}`, token: () => admin,
      write: () => created('/v1/events', { type: 'mutual_aid_requested', aggregateId: `aid-${randomUUID()}`, amount: '1', payload: { purpose: 'paging' } }),
    },
    {
      route: '/v1/resources/search', path: () => '/v1/resources/search?q=paging', token: () => admin,
      write: () =>
        created('/v1/resources', {
          type: 'equipment', title: `Paging press ${randomUUID().slice(0, 6)}`, description: 'A press listed while the list is paged', location: 'Lyon',
          availability: [{ day: 'mon', from: '08:00', to: '18:00' }], accessModel: 'open', cost: { model: 'per_hour', amount: '1' },
        }),
    },
    {
      route: '/v1/cooperatives/{cooperativeId}/bookings', path: () => `/v1/cooperatives/${coop}/bookings`, token: () => admin,
      write: () => {
        const from = new Date(Date.UTC(2030, 0, 1) + ++unique.bookingHour * 3_600_000);
        return createBooking(api.pool, {
          id: randomUUID(), resourceId: resource, ownerCooperativeId: coop, requesterCooperativeId: coop, requesterMemberId: alice,
          from, to: new Date(from.getTime() + 3_600_000), cost: 0n, idempotencyKey: randomUUID(),
        });
      },
    },
    { route: '/v1/proposals/{proposalId}/votes', path: () => `/v1/proposals/${proposal}/votes`, token: () => admin, write: castNextVote, key: (v) => v.memberId },
    {
      route: '/v1/delegations', path: () => '/v1/delegations', token: () => admin,
      write: async () => setDelegation(api.pool, coop, await addMember(api.pool, coop), alice),
      key: (d) => d.delegator,
    },
  ];

  /** Lists this test does not page, and why. */
  const notPaged: Record<string, string> = {
    '/v1/proposals/{proposalId}/delegations': 'the graphs frozen at a proposal\'s close: written once, when voting closes, and never after',
    '/v1/cooperatives/{cooperativeId}/streams/{streamId}/samples':
      "samples exist only once a stream is sampled on a chain whose clock the test drives (stream-sampling.e2e.test.ts); keyed by interval like the other keysets",
  };

  it('covers every list in the OpenAPI document', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    const lists = Object.entries<any>(doc.paths)
      .filter(([, ops]) => ((ops.get?.parameters ?? []) as Array<{ name: string; in: string }>).some((p) => p.in === 'query' && (p.name === 'cursor' || p.name === 'after')))
      .map(([path]) => path)
      .sort();
    const known = [...cases.map((c) => c.route), '/v1/cooperatives/{cooperativeId}/events', ...Object.keys(notPaged)];
    // A list without a case: add one (a route, a path, a token and a write that adds a row it shows), or a reason to notPaged.
    expect({ withoutCase: lists.filter((l) => !known.includes(l)), caseWithoutList: known.filter((k) => !lists.includes(k)) }).toEqual({ withoutCase: [], caseWithoutList: [] });
  });

  /** Every page of a list as it stands, with nothing written meanwhile. */
  async function snapshot(c: ListCase): Promise<string[]> {
    return (await pageThrough(c, 100, async () => undefined)).keys;
  }

  async function pageThrough(c: ListCase, limit: number, during: () => Promise<unknown>): Promise<{ keys: string[]; pages: number }> {
    const key = c.key ?? ((item: any) => item.id as string);
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = c.path().includes('?') ? '&' : '?';
      const [res]: [HttpResponse, unknown] = await Promise.all([
        api.request('GET', `${c.path()}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: c.token() }),
        during(),
      ]);
      if (res.status !== 200) throw new Error(`${c.route}: ${res.status} ${JSON.stringify(res.body)}`);
      keys.push(...res.body.items.map(key));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    return { keys, pages };
  }

  it.each(cases.map((c) => [c.route, c] as const))('pages %s completely while rows are written', async (_route, c) => {
    for (let n = 0; n < 12; n++) await c.write();
    const before = await snapshot(c);
    expect(before.length).toBeGreaterThanOrEqual(12);

    let written = 0;
    const { keys, pages } = await pageThrough(c, 5, async () => {
      await c.write();
      written += 1;
    });
    expect(written).toBe(pages);
    expect(pages).toBeGreaterThanOrEqual(3);
    const duplicates = keys.filter((k, n) => keys.indexOf(k) !== n);
    expect([c.route, duplicates]).toEqual([c.route, []]);
    const missing = before.filter((k) => !keys.includes(k));
    expect([c.route, missing]).toEqual([c.route, []]);
  });

  it('reads the event feed to its end while events are written: every event once, in order', async () => {
    for (let n = 0; n < 12; n++) await mint(alice);
    const feed = async (during: () => Promise<unknown>) => {
      const ids: string[] = [];
      let after: string | null = null;
      let hasMore = true;
      while (hasMore) {
        const [res]: [HttpResponse, unknown] = await Promise.all([
          api.request('GET', `/v1/cooperatives/${coop}/events?limit=5${after ? `&after=${encodeURIComponent(after)}` : ''}`, { token: admin }),
          during(),
        ]);
        expect(res.status).toBe(200);
        ids.push(...res.body.items.map((e: { id: string }) => e.id));
        after = res.body.nextCursor;
        hasMore = res.body.hasMore;
      }
      return ids;
    };
    const before = await feed(async () => undefined);
    const ids = await feed(() => mint(alice));
    expect(ids.filter((id, n) => ids.indexOf(id) !== n)).toEqual([]);
    expect(ids.slice(0, before.length)).toEqual(before);
  });
});
