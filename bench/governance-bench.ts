import { randomUUID } from 'node:crypto';
import { createCooperativeActivities } from '../activities/cooperatives';
import { createGovernanceActivities } from '../activities/governance';
import { signToken } from '../api/auth/tokens';
import { electoratePage, frozenDelegations } from '../db/proposal-votes';
import { resolveVotes, type Vote } from '../domain/governance/delegation';
import { tally } from '../domain/governance/tally';
import { freePort } from '../scripts/ports';
import { proposalWorkflowId, type ProposalResults } from '../workflows/proposal';
import { log, machine, runBench, startApiProcess, startBenchStack } from './stack';
import { recordFigures } from './figures';
import { printTable } from './table';
import { percentile } from './percentile';
import { send } from './keep-alive-client';

/**
 * `npm run bench` (or `npm run bench:governance` alone): governance at the scale of a large
 * cooperative (issue 15), through the API running as its own process, as `npm start` runs it:
 * - 100,000 members inserted in bulk, and the time to open a proposal over all of them;
 * - 100,000 votes from 32 concurrent clients: votes/s, p50, p99, and every answer's status, next to
 *   the API's plain write rate (a delegation, one upsert) measured the same way in the same run;
 * - replays and changed votes, then the rows counted: each vote recorded exactly once;
 * - a burst of 500 members voting at once;
 * - the tally of 100,000 members over the worst-case delegation graph (a chain through half of them,
 *   hundreds of loops with long tails, a deep tree), in the domain alone and as the close's
 *   activities, and a proposal closed by its workflow end to end.
 * Nothing here is asserted; the aims are printed next to the figures.
 */
const MEMBERS = Number(process.env.BENCH_GOVERNANCE_MEMBERS ?? 100_000);
const REFERENCE_WRITES = Math.min(MEMBERS, Number(process.env.BENCH_GOVERNANCE_REFERENCE ?? 5_000));
const CLIENTS = 32;
const BURST = 500;

interface Figures {
  n: number;
  seconds: number;
  p50: number;
  p99: number;
  statuses: Map<number, number>;
}

const ms = (v: number) => v.toFixed(1);
const statusText = (s: Map<number, number>) => [...s].sort(([a], [b]) => a - b).map(([code, n]) => `${code}×${n}`).join(' ');

/** One request of a run, its token signed beforehand (a member signs once, not per request). */
interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends `n` requests from `clients` concurrent loops (or all at once when clients >= n), timing each HTTP round trip only. */
async function drive(n: number, clients: number, prepare: (i: number) => Request): Promise<Figures> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const { url, ...init } = prepare(i);
        const t0 = performance.now();
        let status: number;
        try {
          status = (await send(url, init)).status;
        } catch {
          status = 0;
        }
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { n, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses };
}

async function main(): Promise<void> {
  log(`Machine: ${machine()}; ${MEMBERS} members, ${CLIENTS} concurrent clients`);
  const apiPort = await freePort();
  const stack = await startBenchStack('governance', { API_HOST: '127.0.0.1', API_PORT: String(apiPort) });
  const { config, pool, owner } = stack;
  try {
    log('Starting the API as its own process');
    const base = await startApiProcess(stack);

    const cooperatives = createCooperativeActivities(owner);
    const cooperative = async (slug: string) => {
      const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `${slug}-${randomUUID().slice(0, 8)}`, name: slug })).id;
      await cooperatives.openCooperativeLedger(coop);
      await cooperatives.activateCooperative(coop);
      return coop;
    };
    const bulkMembers = async (coop: string, n: number) =>
      (await owner.query<{ id: string }>(`INSERT INTO members (id, cooperative_id, address) SELECT gen_random_uuid(), $1, '0x' || lpad(to_hex(g), 40, '0') FROM generate_series(1, $2) g RETURNING id`, [coop, n])).rows.map((r) => r.id);

    const big = await cooperative('large');
    const reference = await cooperative('reference');
    let t0 = performance.now();
    const members = await bulkMembers(big, MEMBERS);
    const insertSeconds = (performance.now() - t0) / 1000;
    const referenceMembers = await bulkMembers(reference, REFERENCE_WRITES + 1);
    log(`Inserted ${MEMBERS} members in bulk in ${insertSeconds.toFixed(2)} s`);

    const memberToken = (coop: string, id: string) => signToken(config.jwt, { subject: id, role: 'member', cooperativeId: coop });
    const admin = await signToken(config.jwt, { subject: 'bench-admin', role: 'coop_admin', cooperativeId: big });
    const json = (token: string, method: string, body?: unknown) => ({ method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const settings = async (votingPeriodSeconds: number) => {
      const res = await fetch(`${base}/v1/governance/settings`, json(admin, 'PUT', { model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, votingPeriodSeconds, delegationAllowed: true }));
      if (!res.ok) throw new Error(`settings: ${res.status} ${await res.text()}`);
    };
    const open = async (title: string) => {
      const started = performance.now();
      const res = await fetch(`${base}/v1/proposals`, { ...json(admin, 'POST', { title }), headers: { ...json(admin, 'POST').headers, 'idempotency-key': randomUUID() } });
      const body = (await res.json()) as { id: string; closesAt: string };
      if (res.status !== 201) throw new Error(`open: ${res.status} ${JSON.stringify(body)}`);
      return { id: body.id, closesAt: Date.parse(body.closesAt), seconds: (performance.now() - started) / 1000 };
    };
    log(`Signing a token for each of the ${MEMBERS + REFERENCE_WRITES} members who will write`);
    const bigTokens = await Promise.all(members.map((id) => memberToken(big, id)));
    const referenceTokens = await Promise.all(referenceMembers.slice(0, REFERENCE_WRITES).map((id) => memberToken(reference, id)));
    const voteRequest = (proposalId: string, choice: (i: number) => string) => (i: number) => ({
      url: `${base}/v1/proposals/${proposalId}/votes`,
      ...json(bigTokens[i]!, 'POST', { choice: choice(i) }),
    });

    log(`Reference: ${REFERENCE_WRITES} plain writes through the API (POST /v1/delegations, one upsert) from ${CLIENTS} clients`);
    const plain = await drive(REFERENCE_WRITES, CLIENTS, (i) => ({
      url: `${base}/v1/delegations`,
      ...json(referenceTokens[i]!, 'POST', { delegateMemberId: referenceMembers[i + 1]! }),
    }));

    await settings(3600);
    log(`Opening a proposal over ${MEMBERS} members`);
    const first = await open('Budget for the year');
    log(`${MEMBERS} votes on it from ${CLIENTS} clients`);
    const votes = await drive(MEMBERS, CLIENTS, voteRequest(first.id, (i) => (i % 3 === 0 ? 'no' : 'yes')));
    log('Replays of 2,000 votes and 1,000 changed votes');
    const replays = await drive(2_000, CLIENTS, voteRequest(first.id, (i) => (i % 3 === 0 ? 'no' : 'yes')));
    const changes = await drive(1_000, CLIENTS, voteRequest(first.id, () => 'abstain'));
    const rows = (
      await owner.query<{ n: number; versions: number; abstain: number }>(
        "SELECT count(*)::int AS n, sum(version)::int AS versions, count(*) FILTER (WHERE choice = 'abstain')::int AS abstain FROM proposal_votes WHERE proposal_id = $1",
        [first.id],
      )
    ).rows[0]!;

    const activities = createGovernanceActivities(pool);
    t0 = performance.now();
    await activities.closeVoting(first.id);
    const firstClose = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const [firstTally] = await activities.tallyProposal(first.id);
    const firstTallySeconds = (performance.now() - t0) / 1000;

    log('Worst-case delegation graph, a second proposal, and a burst of 500 voters');
    // Members in order: [0, half) one chain ending at a voter; [half, 0.8) loops of 10 with tails of 90 and no voter; [0.8, 1) a deep binary tree under a voter.
    const half = Math.floor(MEMBERS / 2);
    const treeStart = Math.floor(MEMBERS * 0.8);
    const edges: Array<[string, string]> = [];
    for (let i = 0; i < half - 1; i++) edges.push([members[i]!, members[i + 1]!]);
    for (let b = half; b + 100 <= treeStart; b += 100) {
      for (let k = 0; k < 10; k++) edges.push([members[b + k]!, members[b + ((k + 1) % 10)]!]);
      for (let k = 10; k < 100; k++) edges.push([members[b + k]!, members[b + k - 1]!]);
    }
    for (let j = treeStart + 1; j < MEMBERS; j++) edges.push([members[j]!, members[treeStart + Math.floor((j - treeStart - 1) / 2)]!]);
    await owner.query('INSERT INTO delegations (cooperative_id, delegator, delegate) SELECT $1, d, e FROM unnest($2::uuid[], $3::uuid[]) AS x(d, e)', [big, edges.map((e) => e[0]), edges.map((e) => e[1])]);
    await settings(60);
    const second = await open('Worst-case graph');
    const burstVoters = [members[half - 1]!, members[treeStart]!, ...members.slice(MEMBERS - (BURST - 2))];
    const tokens = await Promise.all(burstVoters.map((id) => memberToken(big, id)));
    const burst = await drive(BURST, BURST, (i) => ({ url: `${base}/v1/proposals/${second.id}/votes`, ...json(tokens[i]!, 'POST', { choice: 'yes' }) }));

    log(`Waiting for the second proposal's window to end (${Math.max(0, Math.round((second.closesAt - Date.now()) / 1000))} s) and its workflow to close it`);
    const result = await stack.temporal.workflow.getHandle<() => Promise<ProposalResults>>(proposalWorkflowId(second.id)).result();
    const closedAfter = (Date.now() - second.closesAt) / 1000;

    // The tally alone, in the domain, on the frozen graph: resolution and count over 100,000 members.
    const weights = new Map<string, bigint>();
    const direct = new Map<string, Vote>();
    for (let after: string | null = null; ; ) {
      const page = await electoratePage(pool, second.id, big, after, 10_000);
      for (const r of page) {
        weights.set(r.memberId, r.weight);
        if (r.choice) direct.set(r.memberId, { choice: r.choice });
      }
      if (page.length < 10_000) break;
      after = page.at(-1)!.memberId;
    }
    const graph = await frozenDelegations(pool, second.id, big);
    // The machine's speed for this kind of work, in the same process: 100,000 Map writes and reads of UUIDs (a tally does a few per member).
    t0 = performance.now();
    const calibration = new Map<string, string>();
    for (const id of members) calibration.set(id, id);
    for (const id of members) calibration.get(id);
    const mapSeconds = (performance.now() - t0) / 1000;
    const stats = { steps: 0 };
    t0 = performance.now();
    const domainTally = tally({ model: 'majority', quorum: { basisPoints: 5000, comparison: '>=' }, majority: { basisPoints: 5000, comparison: '>' }, supermajority: { basisPoints: 6600, comparison: '>=' }, delegationAllowed: true }, weights, resolveVotes(weights.keys(), direct, graph, stats));
    const domainSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await activities.tallyProposal(second.id);
    const secondTallySeconds = (performance.now() - t0) / 1000;
    const receiptStart = performance.now();
    const receipt = await fetch(`${base}/v1/proposals/${second.id}/votes/${burstVoters[0]}/receipt`, json(tokens[0]!, 'GET'));
    const receiptMs = performance.now() - receiptStart;

    const rate = (f: Figures) => (f.n / f.seconds).toFixed(0);
    printTable(log, ['measure', 'n', 'per s', 'p50 ms', 'p99 ms', 'answers'], [
      ['plain API write (reference: delegation upsert)', String(plain.n), rate(plain), ms(plain.p50), ms(plain.p99), statusText(plain.statuses)],
      [`votes on one proposal, ${CLIENTS} clients`, String(votes.n), rate(votes), ms(votes.p50), ms(votes.p99), statusText(votes.statuses)],
      ['replayed votes', String(replays.n), rate(replays), ms(replays.p50), ms(replays.p99), statusText(replays.statuses)],
      ['changed votes', String(changes.n), rate(changes), ms(changes.p50), ms(changes.p99), statusText(changes.statuses)],
      [`burst: ${BURST} voters at once`, String(burst.n), rate(burst), ms(burst.p50), ms(burst.p99), statusText(burst.statuses)],
    ]);
    printTable(log, ['measure', 'seconds', 'detail'], [
      [`insert ${MEMBERS} members in bulk`, insertSeconds.toFixed(2), ''],
      [`open a proposal over ${MEMBERS} members`, first.seconds.toFixed(2), `second: ${second.seconds.toFixed(2)} s`],
      ['close voting (lock, freeze the graph)', firstClose.toFixed(2), ''],
      [`tally ${MEMBERS} direct votes (activity: pages, tally, Merkle root)`, firstTallySeconds.toFixed(2), `yes ${firstTally!.tally.totals.yes / 10_000n}, no ${firstTally!.tally.totals.no / 10_000n}, abstain ${firstTally!.tally.totals.abstain / 10_000n}`],
      [`tally ${MEMBERS}, worst-case graph (domain: resolve + count)`, domainSeconds.toFixed(3), `${stats.steps} steps; ${domainTally.totals.participating / 10_000n} take part through ${BURST} direct votes`],
      [`tally ${MEMBERS}, worst-case graph (activity)`, secondTallySeconds.toFixed(2), ''],
      [`reference: ${MEMBERS} Map writes + reads of UUIDs`, mapSeconds.toFixed(3), 'the CPU at hand, same process'],
      ['deadline → outcome recorded by the workflow', closedAfter.toFixed(2), `status ${result.status}`],
      ['GET a vote receipt', (receiptMs / 1000).toFixed(3), `HTTP ${receipt.status}`],
    ]);
    log(`Rows after votes, replays and changes: ${rows.n} votes for ${MEMBERS} members; versions sum ${rows.versions} (= votes + 1,000 changes: replays changed nothing); ${rows.abstain} changed to abstain.`);
    const perSecond = (f: Figures) => f.n / f.seconds;
    recordFigures('governance', [
      { name: `votes on one proposal of ${MEMBERS.toLocaleString('en')} members, ${CLIENTS} clients`, value: perSecond(votes), unit: 'votes/s', reference: { name: 'plain API write', value: perSecond(plain) }, aim: '>= 500/s' },
      { name: 'votes, p99', value: votes.p99, unit: 'ms', reference: { name: 'plain API write p99', value: plain.p99 }, aim: '<= 100 ms' },
      { name: `burst of ${BURST} voters at once, p99`, value: burst.p99, unit: 'ms', aim: '<= 1,000 ms, no 5xx' },
      { name: `open a proposal over ${MEMBERS.toLocaleString('en')} members`, value: first.seconds, unit: 's', aim: '< 2 s' },
      { name: `tally of ${MEMBERS.toLocaleString('en')}, worst-case delegation graph`, value: domainSeconds, unit: 's', reference: { name: `${MEMBERS.toLocaleString('en')} Map writes + reads`, value: mapSeconds }, aim: '<= 1 s' },
    ]);
    log(`Aims (issue 15): open < 2 s (${first.seconds.toFixed(2)} s); votes >= 500/s (${rate(votes)}/s, plain write ${rate(plain)}/s) with p99 <= 100 ms (${ms(votes.p99)} ms);`);
    log(`  burst of 500 without 5xx and p99 <= 1 s (${statusText(burst.statuses)}, ${ms(burst.p99)} ms); worst-case tally <= 1 s (${domainSeconds.toFixed(3)} s in the domain).`);
  } finally {
    await stack.stop();
  }
}

runBench(main);
