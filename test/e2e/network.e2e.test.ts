import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { cloud, randomAddress } from '../harness/ledger';
import { eventually } from '../harness/eventually';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

/**
 * The intercooperative network over HTTP in real time (decision 0022): a booking between two
 * cooperatives decided by both (each by its own voting period), settled in both ledgers and recorded
 * with verified proof; a rejection that moves nothing; overlapping bookings refused by the database;
 * a mutual-aid request fulfilled across the ledgers.
 */
describe('intercooperative network', () => {
  let api: TestApi;
  let worker: TestWorker;
  interface Coop {
    id: string;
    admin: string;
    members: Array<{ id: string; token: string }>;
  }
  let a: Coop;
  let b: Coop;
  /** Its proposal still closes, without votes: rejected for want of quorum. */
  let cancelledBookingProposal: string;

  async function cooperative(size: number, votingPeriodSeconds: number): Promise<Coop> {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const id = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `net-${randomUUID().slice(0, 8)}`, name: 'Net' } })).body.id;
    const admin = await api.token({ subject: `admin-${id}`, role: 'coop_admin', cooperativeId: id });
    const members = [];
    for (let i = 0; i < size; i++) {
      const m = (await api.request('POST', `/v1/cooperatives/${id}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
      members.push({ id: m, token: await api.token({ subject: m, role: 'member', cooperativeId: id }) });
    }
    const res = await api.request('PUT', '/v1/governance/settings', {
      token: admin,
      body: { model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds, delegationAllowed: false },
    });
    expect(res.status).toBe(200);
    return { id, admin, members };
  }

  const key = () => ({ 'idempotency-key': randomUUID() });
  const ALL_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, from: '00:00', to: '24:00' }));

  async function share(owner: Coop, body: Record<string, unknown> = {}): Promise<string> {
    const res = await api.request('POST', '/v1/resources', {
      token: owner.admin, headers: key(),
      body: { type: 'equipment', title: `Laser cutter ${randomUUID().slice(0, 6)}`, description: 'A 60 W CO2 laser cutter', location: 'Lyon, workshop 2', availability: ALL_WEEK, accessModel: 'open', cost: { model: 'per_hour', amount: '2' }, ...body },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** A whole-minute slot some days ahead, `hours` long. */
  function slot(daysAhead: number, hours: number, startHour = 9) {
    const from = new Date(Date.now() + daysAhead * 86_400_000);
    from.setUTCHours(startHour, 0, 0, 0);
    return { from: from.toISOString(), to: new Date(from.getTime() + hours * 3_600_000).toISOString() };
  }

  const vote = (member: { token: string }, proposalId: string, choice: string) => api.request('POST', `/v1/proposals/${proposalId}/votes`, { token: member.token, body: { choice } });
  const bookingOf = (id: string, token: string) => api.request('GET', `/v1/bookings/${id}`, { token });
  const settled = (bookingOrExchange: string) =>
    api.pool.query<{ cooperative_id: string; metadata: { side: string }; id: string }>(`SELECT id, cooperative_id, metadata FROM transactions WHERE type = 'settlement' AND metadata->>'exchangeId' = $1`, [bookingOrExchange]);
  const balance = async (cooperativeId: string, code: string, memberId: string | null = null) =>
    BigInt((await api.pool.query(`SELECT COALESCE(sum(b.balance), 0)::text AS total FROM accounts a JOIN account_balances b ON b.account_id = a.id WHERE a.cooperative_id = $1 AND a.code = $2 AND a.member_id IS NOT DISTINCT FROM $3`, [cooperativeId, code, memberId])).rows[0].total);

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    // Each stakeholder has its own voting period: the proposal closes when the longer has passed.
    [a, b] = [await cooperative(2, 6), await cooperative(2, 9)];
    for (const m of a.members) {
      await ledger.mint(api.pool, { cooperativeId: a.id, memberId: m.id, amount: cloud(50), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `net-${randomUUID()}` });
    }
    await ledger.mint(api.pool, { cooperativeId: b.id, memberId: b.members[0]!.id, amount: cloud(50), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `net-${randomUUID()}` });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('books a resource of another cooperative once both approve: the slot is confirmed, the cost settled in both ledgers, and the events carry verified proof', async () => {
    const resource = await share(b);
    const requester = a.members[0]!;
    const walletBefore = await balance(a.id, '2100', requester.id);
    const res = await api.request('POST', `/v1/resources/${resource}/request`, { token: requester.token, headers: key(), body: slot(3, 3) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', cost: '6', ownerCooperativeId: b.id, requesterCooperativeId: a.id });
    const { id: bookingId, proposalId } = res.body;
    expect(proposalId).toEqual(expect.any(String));

    // Every affected cooperative decides, each within its own window: A's closes before B's.
    for (const m of [...a.members, ...b.members]) expect((await vote(m, proposalId, 'yes')).status).toBe(200);
    const confirmed = await eventually(() => bookingOf(bookingId, requester.token), (r) => r.body.status !== 'pending', 60_000);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', settlement: { outTransaction: expect.any(String), inTransaction: expect.any(String) } });

    // Both sides posted, each in its own books, and they net to zero through the clearing accounts.
    const sides = (await settled(`booking:${bookingId}`)).rows;
    expect(sides.map((t) => [t.cooperative_id, t.metadata.side]).sort()).toEqual([[a.id, 'out'], [b.id, 'in']].sort());
    expect(await balance(a.id, '2100', requester.id)).toBe(walletBefore - cloud(6));
    expect(await balance(b.id, '4700')).toBe(cloud(6));
    const clearing = await api.pool.query(`SELECT sum(b.balance)::text AS total FROM accounts a JOIN account_balances b ON b.account_id = a.id WHERE a.code = '1950' AND a.cooperative_id = ANY ($1)`, [[a.id, b.id]]);
    expect(clearing.rows[0].total).toBe('0');
    const report = await ledger.integrityReport(api.pool, undefined, { checks: ['clearing_nets_to_zero'], asOf: new Date(Date.now() + 3_600_000) });
    expect(report.findings).toEqual([]);

    // The exchange's events, visible to both cooperatives, approvals with the record's digest.
    const events = await api.request('GET', `/v1/events?aggregate=${bookingId}`, { token: b.admin });
    expect(events.status).toBe(200);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(['resource_exchange_proposed', 'resource_exchange_approved', 'resource_exchange_executed']);
    for (const e of events.body.items.slice(1)) expect(e.proof).toEqual({ proposalId, recordDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Page by page, the same events in the same order; a tampered cursor is refused, not a 5xx.
    const paged: string[] = [];
    for (let cursor = ''; ; ) {
      const page = await api.request('GET', `/v1/events?aggregate=${bookingId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: a.admin });
      paged.push(...page.body.items.map((e: { id: string }) => e.id));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(paged).toEqual(events.body.items.map((e: { id: string }) => e.id));
    expect((await api.request('GET', `/v1/events?cursor=${Buffer.from('["x"]').toString('base64url')}`, { token: a.admin })).status).toBe(400);
    expect(events.body.items[0].cooperatives.sort()).toEqual([a.id, b.id].sort());
    // Governance events are written too, and every economic event reached both outboxes.
    const governance = await api.request('GET', `/v1/events?aggregate=${proposalId}`, { token: a.admin });
    expect(governance.body.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['proposal_created', 'vote_cast', 'consensus_reached']));
    const outbox = await api.pool.query(`SELECT cooperative_id FROM outbox WHERE event_type = 'economic_event.recorded' AND aggregate_id = $1`, [bookingId]);
    expect(outbox.rows.filter((r) => r.cooperative_id === a.id)).toHaveLength(3);
    expect(outbox.rows.filter((r) => r.cooperative_id === b.id)).toHaveLength(3);
    // The store is append-only, whoever asks.
    await expect(api.pool.query(`UPDATE economic_events SET amount = 1 WHERE aggregate_id = $1`, [bookingId])).rejects.toThrow(/append-only/);
    await expect(api.pool.query(`DELETE FROM economic_events WHERE aggregate_id = $1`, [bookingId])).rejects.toThrow(/append-only/);
  }, 120_000);

  it('releases a confirmed booking cancelled before it starts, and pays its cost back in both ledgers', async () => {
    const resource = await share(b);
    const requester = a.members[0]!;
    const [walletBefore, incomeBefore] = [await balance(a.id, '2100', requester.id), await balance(b.id, '4700')];
    const when = slot(6, 2);
    const res = await api.request('POST', `/v1/resources/${resource}/request`, { token: requester.token, headers: key(), body: when });
    expect(res.status).toBe(201);
    for (const m of [...a.members, ...b.members]) expect((await vote(m, res.body.proposalId, 'yes')).status).toBe(200);
    await eventually(() => bookingOf(res.body.id, requester.token), (r) => r.body.status === 'confirmed', 60_000);
    expect(await balance(a.id, '2100', requester.id)).toBe(walletBefore - cloud(4));

    expect((await api.request('POST', `/v1/bookings/${res.body.id}/cancel`, { token: b.members[0]!.token })).status).toBe(403);
    expect((await api.request('POST', `/v1/bookings/${res.body.id}/cancel`, { token: requester.token })).status).toBe(202);
    const cancelled = await eventually(() => bookingOf(res.body.id, requester.token), (r) => r.body.status === 'cancelled', 60_000);
    expect(cancelled.body.settlement).toEqual({ outTransaction: expect.any(String), inTransaction: expect.any(String) });
    // Both sides reversed, each in its own books: the credits are back, the income is gone, clearing nets to zero.
    expect(await balance(a.id, '2100', requester.id)).toBe(walletBefore);
    expect(await balance(b.id, '4700')).toBe(incomeBefore);
    const reversals = await api.pool.query(`SELECT cooperative_id FROM transactions WHERE type = 'correction' AND reverses_transaction_id = ANY ($1)`, [[cancelled.body.settlement.outTransaction, cancelled.body.settlement.inTransaction]]);
    expect(reversals.rows.map((r) => r.cooperative_id).sort()).toEqual([a.id, b.id].sort());
    expect((await ledger.integrityReport(api.pool, undefined, { checks: ['clearing_nets_to_zero'], asOf: new Date(Date.now() + 3_600_000) })).findings).toEqual([]);
    // The slot is free again.
    const free = await api.request('GET', `/v1/resources/search?from=${encodeURIComponent(when.from)}&to=${encodeURIComponent(when.to)}&location=lyon&type=equipment&limit=100`, { token: requester.token });
    expect(free.body.items.map((r: { id: string }) => r.id)).toContain(resource);
    expect((await api.request('POST', `/v1/bookings/${res.body.id}/cancel`, { token: requester.token })).status).toBe(409);
  }, 120_000);

  it('moves nothing and releases the slot when one cooperative rejects', async () => {
    const resource = await share(b);
    const requester = a.members[1]!;
    const when = slot(4, 2);
    const res = await api.request('POST', `/v1/resources/${resource}/request`, { token: requester.token, headers: key(), body: when });
    expect(res.status).toBe(201);
    for (const m of a.members) await vote(m, res.body.proposalId, 'yes');
    for (const m of b.members) await vote(m, res.body.proposalId, 'no');
    const done = await eventually(() => bookingOf(res.body.id, requester.token), (r) => r.body.status !== 'pending', 60_000);
    expect(done.body).toMatchObject({ status: 'rejected', settlement: null });
    expect((await settled(`booking:${res.body.id}`)).rows).toEqual([]);
    const events = await api.request('GET', `/v1/events?aggregate=${res.body.id}`, { token: a.admin });
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(['resource_exchange_proposed']);
    // The slot is free again: the same time can be requested.
    const again = await api.request('POST', `/v1/resources/${resource}/request`, { token: requester.token, headers: key(), body: when });
    expect(again.status).toBe(201);
    expect((await api.request('POST', `/v1/bookings/${again.body.id}/cancel`, { token: requester.token })).status).toBe(202);
    cancelledBookingProposal = again.body.proposalId;
    await eventually(() => bookingOf(again.body.id, requester.token), (r) => r.body.status === 'cancelled', 60_000);
  }, 120_000);

  it('refuses an overlapping booking in the database, and books an open resource of the own cooperative at once', async () => {
    const resource = await share(a, { cost: { model: 'free' } });
    const member = a.members[0]!;
    const first = await api.request('POST', `/v1/resources/${resource}/request`, { token: member.token, headers: key(), body: slot(5, 4) });
    expect(first.status).toBe(201);
    expect(first.body.proposalId).toBeNull();
    const overlapping = await api.request('POST', `/v1/resources/${resource}/request`, { token: a.members[1]!.token, headers: key(), body: slot(5, 2, 11) });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.error.code).toBe('CONFLICT');
    // Straight into the table too: the exclusion constraint, not the code, refuses it.
    await expect(
      api.pool.query(
        `INSERT INTO bookings (id, resource_id, owner_cooperative_id, requester_cooperative_id, requester_member_id, period, status, cost, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $3, $4, tstzrange($5, $6), 'pending', 0, $7, 'x')`,
        [randomUUID(), resource, a.id, member.id, slot(5, 1, 12).from, slot(5, 1, 12).to, randomUUID()],
      ),
    ).rejects.toMatchObject({ constraint: 'bookings_no_overlap' });
    const adjacent = await api.request('POST', `/v1/resources/${resource}/request`, { token: a.members[1]!.token, headers: key(), body: slot(5, 1, 13) });
    expect(adjacent.status).toBe(201);
    await eventually(() => bookingOf(first.body.id, member.token), (r) => r.body.status === 'confirmed', 30_000);
    // Search: found by words, type and location; not when the slot asked for is taken.
    const found = await api.request('GET', `/v1/resources/search?q=laser&type=equipment&location=lyon`, { token: b.members[0]!.token });
    expect(found.body.items.map((r: { id: string }) => r.id)).toContain(resource);
    const taken = slot(5, 1, 10);
    const busy = await api.request('GET', `/v1/resources/search?q=laser&from=${encodeURIComponent(taken.from)}&to=${encodeURIComponent(taken.to)}`, { token: b.members[0]!.token });
    expect(busy.body.items.map((r: { id: string }) => r.id)).not.toContain(resource);
  }, 120_000);

  it('charges a booking within one cooperative through a hold (decision 0026): held at the request, charged at confirmation, paid back on cancel; released on rejection; failed without credits', async () => {
    // A cooperative of its own, so the report below counts A's bookings and decisions alone.
    const c = await cooperative(2, 6);
    const member = c.members[1]!;
    await ledger.mint(api.pool, { cooperativeId: c.id, memberId: member.id, amount: cloud(50), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `net-${randomUUID()}` });
    const walletBefore = await balance(c.id, '2100', member.id);
    const hold = (holdId: string) => api.request('GET', `/v1/cooperatives/${c.id}/holds/${holdId}`, { token: c.admin });
    const walletChecks = ['wallet_equals_lots', 'reserved_equals_open_holds', 'lot_parts_add_up', 'no_negative_wallet', 'account_balance_equals_entries'] as const;

    // Open access: booked at once, the cost (3 started hours at 2 CLOUD) held, then charged.
    const open = await share(c);
    const requestKey = key();
    const res = await api.request('POST', `/v1/resources/${open}/request`, { token: member.token, headers: requestKey, body: slot(7, 3) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ cost: '6', proposalId: null });
    const confirmed = await eventually(() => bookingOf(res.body.id, member.token), (r) => r.body.status !== 'pending', 30_000);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', settlement: { holdId: expect.any(String), transaction: expect.any(String) } });
    const { holdId, transaction } = confirmed.body.settlement;
    expect((await hold(holdId)).body).toMatchObject({ status: 'finalized', amount: '6', finalAmount: '6', transactionId: transaction });
    expect(await balance(c.id, '2100', member.id)).toBe(walletBefore - cloud(6));
    const executed = await api.request('GET', `/v1/events?aggregate=${res.body.id}`, { token: c.admin });
    expect(executed.body.items.map((e: { type: string }) => e.type)).toEqual(['resource_exchange_proposed', 'resource_exchange_executed']);
    // The same request again is the same booking: nothing more is held or charged.
    const replay = await api.request('POST', `/v1/resources/${open}/request`, { token: member.token, headers: requestKey, body: slot(7, 3) });
    expect(replay.body).toMatchObject({ id: res.body.id, status: 'confirmed' });
    expect((await api.request('GET', `/v1/cooperatives/${c.id}/holds?memberId=${member.id}&limit=100`, { token: c.admin })).body.items.filter((h: { id: string }) => h.id === holdId)).toHaveLength(1);

    // The list shows it to its cooperative, by status and resource; a member sees only their own.
    const listed = await api.request('GET', `/v1/cooperatives/${c.id}/bookings?status=confirmed&resourceId=${open}`, { token: c.admin });
    expect(listed.body.items.map((x: { id: string }) => x.id)).toContain(res.body.id);
    expect((await api.request('GET', `/v1/cooperatives/${c.id}/bookings?memberId=${member.id}`, { token: c.members[0]!.token })).status).toBe(403);
    const own = await api.request('GET', `/v1/cooperatives/${c.id}/bookings?resourceId=${open}`, { token: c.members[0]!.token });
    expect(own.body.items).toEqual([]);
    expect((await api.request('GET', `/v1/cooperatives/${c.id}/bookings`, { token: b.admin })).status).toBe(403);

    // Cancelled before it starts: the charge is paid back by a correction, once.
    expect((await api.request('POST', `/v1/bookings/${res.body.id}/cancel`, { token: member.token })).status).toBe(202);
    await eventually(() => bookingOf(res.body.id, member.token), (r) => r.body.status === 'cancelled', 30_000);
    expect(await balance(c.id, '2100', member.id)).toBe(walletBefore);
    const refunds = await api.pool.query(`SELECT idempotency_key FROM transactions WHERE type = 'correction' AND reverses_transaction_id = $1`, [transaction]);
    expect(refunds.rows).toEqual([{ idempotency_key: `booking:${res.body.id}:refund` }]);

    // Approval access: the cost is held while the owner decides, and released when it says no.
    const guarded = await share(c, { accessModel: 'approval' });
    const asked = await api.request('POST', `/v1/resources/${guarded}/request`, { token: member.token, headers: key(), body: slot(8, 2) });
    expect(asked.status).toBe(201);
    const held = await eventually(
      () => api.request('GET', `/v1/cooperatives/${c.id}/holds?memberId=${member.id}&status=open`, { token: c.admin }),
      (r) => r.body.items.length === 1,
      30_000,
    );
    expect(held.body.items[0]).toMatchObject({ amount: '4', status: 'open' });
    for (const m of c.members) expect((await vote(m, asked.body.proposalId, 'no')).status).toBe(200);
    const rejected = await eventually(() => bookingOf(asked.body.id, member.token), (r) => r.body.status !== 'pending', 60_000);
    expect(rejected.body).toMatchObject({ status: 'rejected', settlement: null });
    expect((await hold(held.body.items[0].id)).body.status).toBe('released');
    expect(await balance(c.id, '2100', member.id)).toBe(walletBefore);
    const charges = await api.pool.query(`SELECT 1 FROM transactions WHERE cooperative_id = $1 AND type = 'redemption' AND metadata->>'holdId' = $2`, [c.id, held.body.items[0].id]);
    expect(charges.rowCount).toBe(0);

    // No credits: the cost cannot be held, so the booking fails and frees its slot.
    const broke = (await api.request('POST', `/v1/cooperatives/${c.id}/members`, { token: c.admin, body: { address: randomAddress() } })).body.id;
    const brokeToken = await api.token({ subject: broke, role: 'member', cooperativeId: c.id });
    const refused = await api.request('POST', `/v1/resources/${open}/request`, { token: brokeToken, headers: key(), body: slot(9, 1) });
    expect(refused.status).toBe(201);
    const failed = await eventually(() => bookingOf(refused.body.id, brokeToken), (r) => r.body.status !== 'pending', 30_000);
    expect(failed.body).toMatchObject({ status: 'failed', settlement: null, reason: expect.stringContaining('could not be held') });

    expect((await ledger.integrityReport(api.pool, c.id, { checks: walletChecks })).findings).toEqual([]);
  }, 180_000);

  it('fulfils a mutual-aid request: the donor cooperative decides with the requester, the aid moves between the ledgers, the event carries the proof', async () => {
    const request = await api.request('POST', '/v1/events', {
      token: a.admin, headers: key(), body: { type: 'mutual_aid_requested', aggregateId: `aid-${randomUUID()}`, amount: '5', payload: { purpose: 'Flood repairs to the workshop' } },
    });
    expect(request.status).toBe(201);
    const proposal = await api.request('POST', '/v1/proposals', { token: b.admin, headers: key(), body: { title: 'Send 5 CLOUD of aid', stakeholderCooperativeIds: [a.id] } });
    expect(proposal.status).toBe(201);
    const donor = b.members[0]!;
    const fulfil = (proposalId: string) =>
      api.request('POST', '/v1/events', {
        token: b.admin, headers: key(),
        body: { type: 'mutual_aid_fulfilled', aggregateId: proposalId, cooperatives: [a.id], amount: '5', proof: { proposalId }, payload: { requestEventId: request.body.id, donorMemberId: donor.id } },
      });
    // Without proof, or before the decision, it is refused.
    const unproven = await api.request('POST', '/v1/events', {
      token: b.admin, headers: key(), body: { type: 'mutual_aid_fulfilled', aggregateId: proposal.body.id, cooperatives: [a.id], amount: '5', payload: { requestEventId: request.body.id, donorMemberId: donor.id } },
    });
    expect(unproven.status).toBe(400);
    expect((await fulfil(proposal.body.id)).status).toBe(400);
    for (const m of [...a.members, ...b.members]) await vote(m, proposal.body.id, 'yes');
    await eventually(() => api.request('GET', `/v1/proposals/${proposal.body.id}/results`, { token: b.admin }), (r) => r.body.status !== 'open', 60_000);
    const incomeBefore = await balance(a.id, '4700');
    const donorBefore = await balance(b.id, '2100', donor.id);
    const fulfilled = await fulfil(proposal.body.id);
    expect(fulfilled.status).toBe(201);
    expect(fulfilled.body).toMatchObject({ type: 'mutual_aid_fulfilled', amount: '5', proof: { proposalId: proposal.body.id, recordDigest: expect.any(String) } });
    expect(await balance(a.id, '4700')).toBe(incomeBefore + cloud(5));
    expect(await balance(b.id, '2100', donor.id)).toBe(donorBefore - cloud(5));
    // One decision proves one fulfilment.
    expect((await fulfil(proposal.body.id)).status).toBe(409);
  }, 120_000);

  it('reports decisions, events, bookings, quorum and rejection rates per cooperative and network-wide, also as Prometheus metrics', async () => {
    const operator = await api.token({ subject: 'op', role: 'operator' });
    await eventually(() => api.request('GET', `/v1/proposals/${cancelledBookingProposal}/results`, { token: a.admin }), (r) => r.body.status !== 'open', 60_000);
    const report = await api.request('GET', '/v1/reports/network', { token: operator });
    expect(report.status).toBe(200);
    const ofA = report.body.cooperatives.find((c: { cooperativeId: string }) => c.cooperativeId === a.id);
    // Five proposals decided with A: two approved bookings and the aid; the booking B rejected, and the one
    // cancelled while pending that nobody voted on (A's quorum not met). Six bookings by A: four requests of
    // B's resources (one cancelled after confirmation, one while pending, one rejected), two of its own.
    expect(ofA).toMatchObject({ decisions: 5, approved: 3, rejected: 2, quorumRate: 0.8, rejectionRate: 0.4, bookings: 6, confirmedBookings: 3 });
    expect(ofA.events).toBeGreaterThan(ofA.governanceEvents);
    expect(report.body.network.decisions).toBeGreaterThanOrEqual(3);
    const own = await api.request('GET', `/v1/cooperatives/${a.id}/report`, { token: a.admin });
    expect(own.body.cooperatives).toEqual([ofA]);
    expect((await api.request('GET', `/v1/cooperatives/${b.id}/report`, { token: a.admin })).status).toBe(403);
    expect((await api.request('GET', '/v1/reports/network', { token: a.admin })).status).toBe(403);
    const metrics = await fetch(`${api.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^network_decisions\{cooperative="network"\} \d+$/m);
    expect(metrics).toMatch(/^network_rejection_rate\{cooperative="[^"]+"\} 0\.4$/m);
  });
});
