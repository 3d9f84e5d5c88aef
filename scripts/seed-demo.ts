import { randomUUID } from 'node:crypto';
import { signToken } from '../api/auth/tokens';
import { loadConfig } from '../config/config';
import { GOVERNANCE_EVENT_TYPES } from '../domain/network/economic-events';

/**
 * `npm run seed:demo`, against a running `npm start`: populates the network with the InterCooperative
 * Network spec's pilot targets, 25 decisions, 50 economic events and 10 bookings, through the public
 * API only, printing each step. Three cooperatives of four members each share resources and book
 * each other's (six bookings between cooperatives, decided by both, one of them rejected; four within
 * one); the other decisions are infrastructure investments, one of them mutual aid. Each run makes
 * new cooperatives, so it can be run again. SEED_VOTING_SECONDS (default 20) is the voting period.
 */
const config = loadConfig();
const API = process.env.SEED_API_URL ?? `http://localhost:${config.api.port}`;
const VOTING_SECONDS = Number(process.env.SEED_VOTING_SECONDS ?? 20);
const TARGETS = { decisions: 25, events: 50, bookings: 10 };
const run = randomUUID().slice(0, 6);
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Response {
  status: number;
  // The seed reads a few fields of many response shapes; the API's contracts are checked by its tests.
  body: any;
}

/** One API call; waits out rate limits (429 with Retry-After) rather than failing. */
async function call(method: string, path: string, token: string, body?: unknown, idempotent = false): Promise<Response> {
  for (;;) {
    const res = await fetch(`${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(idempotent ? { 'idempotency-key': `seed-${randomUUID()}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = { status: res.status, body: res.status === 204 ? null : await res.json() };
    if (res.status === 429) {
      const wait = Number(res.headers.get('retry-after') ?? 5);
      log(`  (rate limited: waiting ${wait} s)`);
      await sleep(wait * 1000);
      continue;
    }
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(parsed.body)}`);
    return parsed;
  }
}

interface Coop {
  id: string;
  slug: string;
  admin: string;
  members: Array<{ id: string; token: string }>;
  resources: string[];
}

const address = () => `0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`;

async function cooperative(operator: string, name: string): Promise<Coop> {
  const slug = `${name.toLowerCase()}-${run}`;
  const created = await call('POST', '/v1/cooperatives', operator, { slug, name: `${name} Cooperative` });
  const id = created.body.id as string;
  const admin = await signToken(config.jwt, { subject: `seed-admin-${slug}`, role: 'coop_admin', cooperativeId: id });
  await call('PUT', '/v1/governance/settings', admin, {
    model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' },
    votingPeriodSeconds: VOTING_SECONDS, delegationAllowed: true,
  });
  const members = [];
  for (let i = 0; i < 4; i++) {
    const m = (await call('POST', `/v1/cooperatives/${id}/members`, admin, { address: address(), displayName: `${name} member ${i + 1}` })).body.id as string;
    members.push({ id: m, token: await signToken(config.jwt, { subject: m, role: 'member', cooperativeId: id }) });
  }
  // Credits to pay for bookings: a welcome campaign grants each member 50 CLOUD.
  const campaign = await call('POST', `/v1/cooperatives/${id}/campaigns`, admin, { name: 'Welcome to the network', budget: '1000', perWalletCap: '50', grantExpiryDays: 365 }, true);
  await call('POST', `/v1/cooperatives/${id}/campaigns/${campaign.body.id}/grants`, admin, { grants: members.map((m) => ({ memberId: m.id, amount: '50' })) }, true);
  const resources = [];
  for (const [title, type, cost] of [
    ['Meeting room', 'space', { model: 'free' }],
    ['GPU server', 'compute', { model: 'per_hour', amount: '1.5' }],
    ['Cargo bike', 'vehicle', { model: 'flat', amount: '3' }],
  ] as const) {
    const availability = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, from: '07:00', to: '22:00' }));
    const r = await call('POST', '/v1/resources', admin, { type, title: `${title} (${name})`, description: `${name} shares its ${title.toLowerCase()}`, location: name, availability, accessModel: 'open', cost }, true);
    resources.push(r.body.id as string);
  }
  log(`  ${name}: cooperative ${id}, 4 members with 50 CLOUD each, 3 shared resources`);
  return { id, slug, admin, members, resources };
}

/** A whole-hour slot `day` days from now, from 09:00 + `hour`, two hours long. */
function slot(day: number, hour: number) {
  const from = new Date(Date.now() + day * 86_400_000);
  from.setUTCHours(9 + hour, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 2 * 3_600_000).toISOString() };
}

async function vote(coops: Coop[], proposalId: string, choice: (coop: Coop) => string) {
  for (const coop of coops) for (const m of coop.members.slice(0, 3)) await call('POST', `/v1/proposals/${proposalId}/votes`, m.token, { choice: choice(coop) });
}

async function decided(proposalId: string, token: string): Promise<string> {
  for (;;) {
    const r = await call('GET', `/v1/proposals/${proposalId}/results`, token);
    if (r.body.status !== 'open') return r.body.status as string;
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  log(`Seeding the demo network at ${API} (run ${run}; voting period ${VOTING_SECONDS} s)`);
  const operator = await signToken(config.jwt, { subject: 'seed-operator', role: 'operator' });
  const before = (await call('GET', '/v1/reports/network', operator)).body.network;

  log('1/6 Cooperatives, members, credits and shared resources');
  const [a, b, c] = [await cooperative(operator, 'Techne'), await cooperative(operator, 'Fabrica'), await cooperative(operator, 'Terra')] as [Coop, Coop, Coop];

  log('2/6 Ten bookings: four within a cooperative (booked at once), six between cooperatives (each decided by both)');
  const within: Array<[Coop, Coop]> = [[a, a], [a, a], [b, b], [c, c]];
  const between: Array<[Coop, Coop, 'yes' | 'no']> = [[a, b, 'yes'], [b, c, 'yes'], [c, a, 'yes'], [a, c, 'yes'], [b, a, 'yes'], [c, b, 'no']];
  const bookings: Array<{ id: string; token: string }> = [];
  let n = 0;
  for (const [requester, owner] of within) {
    const m = requester.members[n % 4]!;
    const r = await call('POST', `/v1/resources/${owner.resources[n % 3]}/request`, m.token, slot(7 + n, 0), true);
    bookings.push({ id: r.body.id, token: m.token });
    n++;
  }
  const exchangeProposals: Array<{ id: string; coops: Coop[]; ownerVote: string; token: string }> = [];
  for (const [requester, owner, ownerVote] of between) {
    const m = requester.members[n % 4]!;
    const r = await call('POST', `/v1/resources/${owner.resources[1 + (n % 2)]}/request`, m.token, slot(7 + n, 2), true);
    bookings.push({ id: r.body.id, token: m.token });
    exchangeProposals.push({ id: r.body.proposalId, coops: [requester, owner], ownerVote, token: requester.admin });
    n++;
  }
  log(`  ${bookings.length} bookings requested`);

  log('3/6 Nineteen more proposals: infrastructure investments, one of them mutual aid');
  const plain: Array<{ id: string; coops: Coop[]; choice: (coop: Coop) => string; origin: Coop; kind: 'investment' | 'aid' }> = [];
  const projects = ['Solar roof', 'Shared NAS', 'Fibre link', 'Workshop ventilation', 'Community kitchen', 'Bike shelter', 'Backup generator', 'Heat pump', 'Rainwater tank', 'Server rack'];
  for (let i = 0; i < 18; i++) {
    const origin = [a, b, c][i % 3]!;
    const partner = [b, c, a][i % 3]!;
    const coops = i < 9 ? [origin] : [origin, partner];
    // Most pass; every sixth is voted down, and one is left without its quorum.
    const choice = i % 6 === 5 ? () => 'no' : () => 'yes';
    const body = { title: `Invest in: ${projects[i % projects.length]} #${i + 1}`, description: 'An infrastructure investment of the pilot', stakeholderCooperativeIds: coops.slice(1).map((x) => x.id) };
    const p = await call('POST', '/v1/proposals', origin.admin, body, true);
    plain.push({ id: p.body.id, coops: i === 7 ? [] : coops, choice, origin, kind: 'investment' });
  }
  const aid = await call('POST', '/v1/proposals', b.admin, { title: `Mutual aid to ${a.slug}: 5 CLOUD`, description: 'Flood repairs', stakeholderCooperativeIds: [a.id] }, true);
  plain.push({ id: aid.body.id, coops: [b, a], choice: () => 'yes', origin: b, kind: 'aid' });

  log('4/6 Voting');
  for (const p of exchangeProposals) await vote(p.coops, p.id, (coop) => (coop === p.coops[1] ? p.ownerVote : 'yes'));
  for (const p of plain) await vote(p.coops, p.id, p.choice);
  log(`  waiting for the ${exchangeProposals.length + plain.length} proposals to close (about ${VOTING_SECONDS} s)`);
  const outcomes = new Map<string, string>();
  for (const p of [...exchangeProposals, ...plain.map((x) => ({ ...x, token: x.origin.admin }))]) outcomes.set(p.id, await decided(p.id, p.token));
  const approved = [...outcomes.values()].filter((s) => s === 'approved').length;
  log(`  ${outcomes.size} decisions: ${approved} approved, ${outcomes.size - approved} rejected`);
  for (const bk of bookings) {
    for (;;) {
      const r = await call('GET', `/v1/bookings/${bk.id}`, bk.token);
      if (r.body.status !== 'pending') break;
      await sleep(500);
    }
  }

  log('5/6 Economic events: investments proposed and approved (with proof), mutual aid requested and fulfilled, labour contributions');
  const request = await call('POST', '/v1/events', a.admin, { type: 'mutual_aid_requested', aggregateId: `flood-${run}`, amount: '5', payload: { purpose: 'Flood repairs to the workshop' } }, true);
  await call('POST', '/v1/events', b.admin, {
    type: 'mutual_aid_fulfilled', aggregateId: aid.body.id, cooperatives: [a.id], amount: '5', proof: { proposalId: aid.body.id }, payload: { requestEventId: request.body.id, donorMemberId: b.members[0]!.id },
  }, true);
  const ours = async () => {
    let count = 0;
    for (const coop of [a, b, c]) {
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page: Response = await call('GET', `/v1/events?cooperative=${coop.id}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, operator);
        // Each event is counted once, by the cooperative that recorded it.
        count += page.body.items.filter((e: { type: string; cooperativeId: string }) => e.cooperativeId === coop.id && !(GOVERNANCE_EVENT_TYPES as readonly string[]).includes(e.type)).length;
        cursor = page.body.nextCursor;
      }
    }
    return count;
  };
  // The investments' events, then labour contributions, up to the target: each event counted once, by its recorder.
  let remaining = TARGETS.events - (await ours());
  for (const p of plain.filter((x) => x.kind === 'investment')) {
    const stakeholders = p.coops.length > 0 ? p.coops : [p.origin];
    const others = stakeholders.slice(1).map((x) => x.id);
    if (remaining-- > 0) await call('POST', '/v1/events', p.origin.admin, { type: 'infrastructure_investment_proposed', aggregateId: p.id, cooperatives: others, amount: '20', payload: { project: 'Pilot investment', description: '' } }, true);
    if (outcomes.get(p.id) === 'approved' && remaining-- > 0) {
      await call('POST', '/v1/events', p.origin.admin, { type: 'infrastructure_investment_approved', aggregateId: p.id, cooperatives: others, amount: '20', proof: { proposalId: p.id }, payload: { project: 'Pilot investment' } }, true);
    }
  }
  for (let i = 0; i < remaining; i++) {
    const coop = [a, b, c][i % 3]!;
    const m = coop.members[i % 4]!;
    await call('POST', '/v1/events', coop.admin, { type: 'labor_contribution_recorded', aggregateId: m.id, amount: '1', payload: { memberId: m.id, hours: 2, description: 'Maintenance shift' } }, true);
  }

  log('6/6 The report');
  const report = (await call('GET', '/v1/reports/network', operator)).body;
  const after = report.network;
  const events = await ours();
  log(`  this run: ${after.decisions - before.decisions} decisions (target ${TARGETS.decisions}), ${events} economic events (target ${TARGETS.events}) and ${after.governanceEvents - before.governanceEvents} governance events, ${after.bookings - before.bookings} bookings (target ${TARGETS.bookings})`);
  for (const row of report.cooperatives.filter((r: { cooperativeId: string }) => [a.id, b.id, c.id].includes(r.cooperativeId))) {
    log(`  ${row.slug}: ${row.decisions} decisions (quorum rate ${row.quorumRate}, rejection rate ${row.rejectionRate}), ${row.events} events, ${row.bookings} bookings (${row.confirmedBookings} confirmed)`);
  }
  log(`  network: ${after.decisions} decisions, ${after.events} events, ${after.bookings} bookings; Prometheus gauges at ${API}/metrics (network_*)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`seed:demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
