import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createCooperativeActivities } from '../activities/cooperatives';
import { outboxPublisher } from '../activities/outbox';
import * as ledger from '../db/ledger';
import { createMember } from '../db/members';
import { secretBox } from '../db/secret-box';
import { createEndpoint } from '../db/webhook-endpoints';
import { checksumAddress } from '../domain/identity';
import type { WebhookEventBody } from '../domain/webhooks';
import { startOutboxRelay } from '../workers/outbox-relay';
import { log, machine, runBench, startBenchStack } from './stack';
import { recordFigures } from './figures';
import { printTable } from './table';
import { percentile } from './percentile';

/**
 * `npm run bench` (or `npm run bench:webhooks` alone): how long after a transaction commits its
 * webhook reaches a local receiver, p50/p95, with transfers committed at a steady rate by several
 * clients, through the real path: NOTIFY, the relay, the endpoint's delivery workflow on a Temporal dev
 * server, the signed POST. Next to it, measured in the same run against the same receiver: a bare HTTP
 * POST round trip. The aim is delivery started within 2 s of the commit at p95.
 */
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 300);
const RATE_PER_SECOND = Number(process.env.BENCH_WEBHOOK_RATE ?? 20);
const CLIENTS = 4;
const MEMBERS = 16;

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN };
};
const ms = (v: number) => v.toFixed(1);

async function main(): Promise<void> {
  log(`Machine: ${machine()}; ${EVENTS} transfers at ${RATE_PER_SECOND}/s from ${CLIENTS} clients, one endpoint subscribed to every event`);
  const stack = await startBenchStack('webhooks');
  const { config, pool, owner, dependencies } = stack;
  try {
    // The receiver: records when each event arrives, answers at once.
    const arrivals = new Map<string, number>();
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (body) {
          const event = JSON.parse(body) as WebhookEventBody;
          if (typeof event.data?.transactionId === 'string' && !arrivals.has(event.data.transactionId)) arrivals.set(event.data.transactionId, performance.now());
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack.onStop(() => new Promise((resolve) => (receiver.closeAllConnections(), receiver.close(resolve))));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

    log('Reference: bare HTTP POST round trips to the same receiver');
    const reference: number[] = [];
    const sampleBody = JSON.stringify({ id: randomUUID(), type: 'cloud.transferred', data: { amount: '0.001' } });
    for (let i = 0; i < EVENTS; i++) {
      const t0 = performance.now();
      await fetch(receiverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sampleBody });
      reference.push(performance.now() - t0);
    }

    log('Starting the outbox relay');
    const relay = startOutboxRelay({ databaseUrl: config.database.url, publish: outboxPublisher(dependencies), log: pino({ level: 'error' }) });
    stack.onStop(() => relay.stop());

    log(`Seeding a cooperative with ${MEMBERS} funded members and an endpoint`);
    const cooperatives = createCooperativeActivities(owner);
    const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `bench-${randomUUID().slice(0, 8)}`, name: 'Bench' })).id;
    await cooperatives.openCooperativeLedger(coop);
    await cooperatives.activateCooperative(coop);
    const members: string[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const { member } = await createMember(owner, coop, { address: checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`) });
      await ledger.mint(owner, { cooperativeId: coop, memberId: member.id, amount: 1_000_000_000n, source: 'purchase', sourceId: `seed-${member.id}`, idempotencyKey: `seed-${member.id}` });
      members.push(member.id);
    }
    await createEndpoint(pool, secretBox(config.webhooks.secretsKey), { cooperativeId: coop, url: receiverUrl, eventTypes: ['*'], idempotencyKey: 'bench-endpoint' });

    // A warm-up transfer: the first delivery starts the endpoint's workflow.
    const commits = new Map<string, number>();
    const transfer = async (n: number, key = `bench-${n}`) => {
      const { transaction } = await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: members[n % MEMBERS]!, toMemberId: members[(n + 1) % MEMBERS]!, amount: 1_000n, idempotencyKey: key });
      return { id: transaction.id, committedAt: performance.now() };
    };
    const warm = await transfer(0, 'bench-warm-up');
    while (!arrivals.has(warm.id)) await new Promise((r) => setTimeout(r, 20));

    log(`Committing ${EVENTS} transfers at ${RATE_PER_SECOND}/s`);
    const start = performance.now();
    const interval = 1000 / RATE_PER_SECOND;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let n = c; n < EVENTS; n += CLIENTS) {
          const due = start + n * interval;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const { id, committedAt } = await transfer(n);
          commits.set(id, committedAt);
        }
      }),
    );
    const deadline = performance.now() + 120_000;
    while ([...commits.keys()].some((id) => !arrivals.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const latencies = [...commits].filter(([id]) => arrivals.has(id)).map(([id, at]) => arrivals.get(id)! - at);
    const missing = commits.size - latencies.length;

    const delivery = summary(latencies);
    const bare = summary(reference);
    const rows = [
      ['webhook delivery latency from commit', String(latencies.length), ms(delivery.p50), ms(delivery.p95), ms(delivery.max)],
      ['bare HTTP POST round trip (reference)', String(reference.length), ms(bare.p50), ms(bare.p95), ms(bare.max)],
    ];
    printTable(log, ['measure', 'n', 'p50 ms', 'p95 ms', 'max ms'], rows);
    log(`Latency runs from the transfer's COMMIT returning to the receiver reading the delivery; ${missing} of ${commits.size} not delivered within 2 minutes.`);
    recordFigures('webhooks', [
      { name: `delivery latency from commit, p95 (${latencies.length} of ${commits.size} delivered)`, value: delivery.p95, unit: 'ms', reference: { name: 'bare HTTP POST p95', value: bare.p95 }, aim: '<= 2,000 ms' },
    ]);
    log(`Aim: delivery started within 2000 ms of the commit at p95. Measured p95: ${ms(delivery.p95)} ms (${ms(delivery.p95 / bare.p95)}x a bare POST).`);
  } finally {
    await stack.stop();
  }
}

runBench(main);
