import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import Stripe from 'stripe';
import { createCooperativeActivities } from '../activities/cooperatives';
import { signToken } from '../api/auth/tokens';
import { dataConverter } from '../clients/data-converter';
import { createMember } from '../db/members';
import { checksumAddress } from '../domain/identity';
import { freePort } from '../scripts/ports';
import { startStripeMock } from '../scripts/stripe-mock';
import { recordFigures } from './figures';
import { minimalDone, minimalWorkflow } from './minimal-workflow';
import { log, machine, runBench, startApiProcess, startBenchStack } from './stack';
import { printTable } from './table';
import { percentile } from './percentile';

/**
 * `npm run bench` (or `npm run bench:purchases` alone): card purchases end to end, as a member's app and
 * Stripe drive them, through the API (its own process), a real worker, the Temporal dev server,
 * PostgreSQL and stripe-mock: POST /v1/credit-purchases (answered with the client secret), Stripe's
 * signed payment_intent.succeeded webhook, and the purchase minted (its workflow completed, the API
 * showing it minted). Next to it, measured in the same run on the same server and the same worker
 * process: a minimal workflow of the same shape (start → one activity → signal → complete). Issue 14
 * point 4 aims at >= 50 purchases/s at 16 clients with p99 <= 1 s, and >= 0.5x the minimal workflow.
 */
const SECONDS = Number(process.env.BENCH_PURCHASE_SECONDS ?? 10);
const CLIENT_COUNTS = [1, 16];
const MINIMAL_QUEUE = 'bench-purchases-minimal';

interface Run {
  completed: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Requests that did not go as a purchase should, by what went wrong. */
  failures: Map<string, number>;
}

/** Each client runs `one` back to back for the duration; latency is per completed run of it. */
async function measure(clients: number, one: (client: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await one(client);
          latencies.push(performance.now() - t0);
        } catch (err) {
          const what = err instanceof Error ? err.message.slice(0, 120) : String(err);
          failures.set(what, (failures.get(what) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { completed: latencies.length, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

const rate = (r: Run) => r.completed / r.seconds;

async function main(): Promise<void> {
  log(`Machine: ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${SECONDS} s per measure at ${CLIENT_COUNTS.join(' and ')} clients`);
  const [apiPort, stripePort] = [await freePort(), await freePort()];
  const limits = { RATE_LIMIT_PUBLIC: '1000000', RATE_LIMIT_MEMBER_QUERIES: '1000000', RATE_LIMIT_MEMBER_MUTATIONS: '1000000' };
  const stack = await startBenchStack('purchases', { API_HOST: '127.0.0.1', API_PORT: String(apiPort), STRIPE_MOCK_PORT: String(stripePort), ...limits });
  const { config, owner, temporal } = stack;
  try {
    log('Starting stripe-mock, the API as its own process, and the reference workflow\'s worker');
    const stripeMock = await startStripeMock({ port: stripePort, logFile: path.join(stack.stateDir, 'stripe-mock.log'), log });
    stack.onStop(() => stripeMock.stop());
    const base = await startApiProcess(stack);

    const connection = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
    stack.onStop(() => connection.close());
    const minimalWorker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: MINIMAL_QUEUE,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./minimal-workflow'), payloadConverterPath: dataConverter.payloadConverterPath, logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined } }),
      activities: { minimalStep: async (n: number) => n },
      dataConverter,
    });
    const minimalRunning = minimalWorker.run();
    stack.onStop(async () => (minimalWorker.shutdown(), minimalRunning));

    log(`Seeding a cooperative with ${Math.max(...CLIENT_COUNTS)} members, one per client`);
    const cooperatives = createCooperativeActivities(owner);
    const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `bench-${randomUUID().slice(0, 8)}`, name: 'Bench' })).id;
    await cooperatives.openCooperativeLedger(coop);
    await cooperatives.activateCooperative(coop);
    const tokens: string[] = [];
    for (let i = 0; i < Math.max(...CLIENT_COUNTS); i++) {
      const { member } = await createMember(owner, coop, { address: checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`) });
      tokens.push(await signToken(config.jwt, { subject: member.id, role: 'member', cooperativeId: coop }));
    }

    const stripe = new Stripe('sk_test_unused');
    const expect = async (res: Response, status: number, what: string) => {
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${String((body.error as { code?: string } | undefined)?.code ?? '')}`);
      return body;
    };
    /** Where a purchase's time goes, per stage: reset before each measure, shown for each. */
    const stages = { post: [] as number[], webhook: [] as number[], minted: [] as number[] };
    /** One purchase as a member's app and Stripe make it, until the API shows it minted. */
    const purchase = async (client: number) => {
      const auth = { authorization: `Bearer ${tokens[client]!}`, 'content-type': 'application/json' };
      const t0 = performance.now();
      const created = await expect(await fetch(`${base}/v1/credit-purchases`, { method: 'POST', headers: { ...auth, 'idempotency-key': randomUUID() }, body: JSON.stringify({ amount: '1' }) }), 201, 'purchase');
      if (typeof created.clientSecret !== 'string') throw new Error(`purchase answered without a client secret (${String(created.status)})`);
      const t1 = performance.now();
      const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: created.paymentIntentId, object: 'payment_intent' } } });
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: config.stripe.webhookSecret });
      await expect(await fetch(`${base}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload }), 200, 'webhook');
      // The purchase's workflow completes once minted: wait on it (a long poll), then read the purchase as the member would.
      const t2 = performance.now();
      await temporal.workflow.getHandle(created.workflowId as string).result();
      const seen = await expect(await fetch(`${base}/v1/credit-purchases/${String(created.id)}`, { headers: auth }), 200, 'read');
      if (seen.status !== 'minted') throw new Error(`purchase ${String(seen.status)} after its workflow completed`);
      stages.post.push(t1 - t0);
      stages.webhook.push(t2 - t1);
      stages.minted.push(performance.now() - t2);
    };
    const minimal = async () => {
      const handle = await temporal.workflow.start(minimalWorkflow, { taskQueue: MINIMAL_QUEUE, workflowId: `minimal-${randomUUID()}`, args: [1] });
      await handle.signal(minimalDone);
      await handle.result();
    };

    log('Warming up (JIT, pools, workflow caches)');
    await Promise.all(Array.from({ length: 4 }, (_, c) => purchase(c)));
    await Promise.all(Array.from({ length: 4 }, () => minimal()));

    const results: Array<{ clients: number; minimal: Run; purchases: Run }> = [];
    const stageRows: string[][] = [];
    for (const clients of CLIENT_COUNTS) {
      log(`Minimal workflow, ${clients} client(s), ${SECONDS} s`);
      const reference = await measure(clients, minimal);
      log(`Purchases, ${clients} client(s), ${SECONDS} s`);
      for (const list of Object.values(stages)) list.length = 0;
      const measured = await measure(clients, purchase);
      results.push({ clients, minimal: reference, purchases: measured });
      const p50 = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50).toFixed(0);
      stageRows.push([`${clients} client(s)`, p50(stages.post), p50(stages.webhook), p50(stages.minted)]);
    }

    const rows = results.flatMap(({ clients, minimal: m, purchases: p }) => [
      [`purchases end to end, ${clients} client(s)`, String(p.completed), rate(p).toFixed(1), p.p50.toFixed(0), p.p99.toFixed(0), `${(rate(p) / rate(m)).toFixed(2)}x`],
      [`minimal workflow (reference), ${clients} client(s)`, String(m.completed), rate(m).toFixed(1), m.p50.toFixed(0), m.p99.toFixed(0), ''],
    ]);
    printTable(log, ['measure', 'n', 'per s', 'p50 ms', 'p99 ms', 'vs minimal'], rows);
    log('Where a purchase\'s time goes, p50 ms: the POST (answered with the client secret), the signed webhook, then until its workflow completed and the API read it minted.');
    printTable(log, ['purchases', 'POST', 'webhook', 'to minted'], stageRows);
    for (const { clients, minimal: m, purchases: p } of results) {
      for (const [what, failures] of [[`purchases at ${clients}`, p.failures], [`minimal at ${clients}`, m.failures]] as const) {
        for (const [reason, n] of failures) log(`  ${what}: ${n} failed: ${reason}`);
      }
    }
    // Every purchase the bench saw minted holds exactly one mint: nothing lost or doubled under load.
    const { rows: [check] } = await owner.query<{ minted: number; mints: number; open: number }>(
      `SELECT (SELECT count(*)::int FROM credit_purchases WHERE cooperative_id = $1 AND status = 'minted') AS minted,
              (SELECT count(*)::int FROM transactions WHERE cooperative_id = $1 AND type = 'mint') AS mints,
              (SELECT count(*)::int FROM credit_purchases WHERE cooperative_id = $1 AND status NOT IN ('minted', 'expired')) AS open`,
      [coop],
    );
    log(`Ledger check: ${check!.mints} mints for ${check!.minted} minted purchases; ${check!.open} purchases not minted (cut off at the end of a measure).`);
    const at16 = results.at(-1)!;
    log(`Aim (issue 14 point 4): >= 50 purchases/s at 16 clients with p99 <= 1000 ms, >= 0.5x the minimal workflow. Measured: ${rate(at16.purchases).toFixed(1)}/s, p99 ${at16.purchases.p99.toFixed(0)} ms, ${(rate(at16.purchases) / rate(at16.minimal)).toFixed(2)}x; load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);

    recordFigures('purchases', results.flatMap(({ clients, minimal: m, purchases: p }) => [
      { name: `purchases end to end, ${clients} client(s)`, value: rate(p), unit: 'purchases/s', reference: { name: `minimal workflow, ${clients} client(s)`, value: rate(m) }, aim: clients === 16 ? '>= 50/s and >= 0.5x minimal workflow' : '>= 0.5x minimal workflow' },
      { name: `purchases end to end p99, ${clients} client(s)`, value: p.p99, unit: 'ms p99', reference: { name: `minimal workflow p99, ${clients} client(s)`, value: m.p99 }, ...(clients === 16 ? { aim: 'p99 <= 1000 ms' } : {}) },
    ]));
  } finally {
    await stack.stop();
  }
}

runBench(main);
