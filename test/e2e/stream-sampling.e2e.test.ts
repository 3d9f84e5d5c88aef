import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Address } from 'viem';
import { readRealtimeBalances } from '../../clients/chain';
import { postStreamSample } from '../../db/ledger';
import { findStream } from '../../db/streams';
import { setManualPrice } from '../../db/token-prices';
import { formatMicros } from '../../domain/money';
import { parsePrice } from '../../domain/prices';
import { STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId, type StreamSamplingInput, type StreamSamplingResult } from '../../domain/stream-sampling';
import type { ScheduledJobResult } from '../../domain/scheduled-jobs';
import { eventually } from '../harness/eventually';
import { freshAccount, fundWithSuperTokens, mineAt, setFlow, startOwnTestChain, type OwnTestChain } from '../harness/chain';
import { provisionCooperative } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

const HOUR = 3_600n;
const DAY = 24n * HOUR;

/**
 * Sampling on a chain of this file's own, whose clock the test sets (evm_setNextBlockTimestamp): each
 * stream is sampled at each instant it is due, the flow of each half-open interval computed from the
 * FlowUpdated history to the wei (a rate change, a stop and a restart inside intervals), priced,
 * posted once per (stream, interval) whoever asks again, an unpriceable interval left open with an
 * alert, and a sample that fails beyond its retries handed to the dead-letter queue.
 */
describe('stream sampling', () => {
  // A queue of this file's own: its worker reads this file's chain, which other files' workers do not know.
  const taskQueue = `streams-${randomUUID().slice(0, 8)}`;
  const now = new Date();
  /** A period boundary nine months ago: the chain's clock starts an hour before it. */
  const epoch = BigInt(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 9, 1) / 1000);
  const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();
  let chain: OwnTestChain;
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  let sender: Address;
  /**
   * Streams whose sampling activity fails, as if the node kept erring for them: a batch holding one
   * fails, and of the batch sampled stream by stream only they fail.
   */
  const failing = new Set<string>();

  beforeAll(async () => {
    chain = await startOwnTestChain(epoch - HOUR);
    const env = { ...chain.env, TEMPORAL_TASK_QUEUE: taskQueue, PRICE_HTTP_SOURCES: 'oracle=http://127.0.0.1:9/prices' };
    [api, worker] = await Promise.all([
      startTestApi(env),
      startTestWorker({
        taskQueue, env,
        activityOverrides: (real) => ({
          sampleStreamBatch: async (input) => {
            if (failing.size > 0) throw ApplicationFailure.nonRetryable('the node answered 502', 'CHAIN_UNAVAILABLE');
            return real.sampleStreamBatch(input);
          },
          sampleStream: async (input) => {
            if (failing.has(input.streamId)) throw ApplicationFailure.nonRetryable('the node answered 502', 'CHAIN_UNAVAILABLE');
            return real.sampleStream(input);
          },
        }),
      }),
    ]);
    coop = await provisionCooperative(api.pool);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    sender = await freshAccount(chain);
    await fundWithSuperTokens(chain, sender, 10n ** 27n);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
    await chain?.stop();
  });

  async function register(body: Record<string, unknown>): Promise<string> {
    const res = await api.request('POST', `/v1/cooperatives/${coop}/streams`, { token: admin, body: { token: chain.superToken, sender, ...body }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  const run = (instant: bigint, deadLetterRetryDelaysMs = [1_000]) => {
    const input: StreamSamplingInput = { cooperativeId: coop, instant: iso(instant), deadLetterRetryDelaysMs };
    return api.temporal.workflow.execute(STREAM_SAMPLING_WORKFLOW_TYPE, { workflowId: `${streamSamplingWorkflowId(coop, iso(instant))}:${randomUUID()}`, taskQueue, args: [input] }) as Promise<StreamSamplingResult>;
  };
  const samples = async (streamId: string) => (await api.request('GET', `/v1/cooperatives/${coop}/streams/${streamId}/samples`, { token: admin })).body.items.reverse();
  const price = (text: string, observedAt: bigint) =>
    setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: parsePrice(text), observedAt: iso(observedAt), reason: 'test price', setBy: 'op', idempotencyKey: randomUUID() });
  /** µUSD of `wei` at a price in hundredths of a dollar, rounded half up. */
  const usdAt = (wei: bigint, cents: bigint) => (wei * cents * 10_000n + 5n * 10n ** 17n) / 10n ** 18n;

  const r1 = 385_802_469_135_802n;
  const r2 = 1_157_407_407_407_407n;
  const r3 = 3_141_592_653_589n;
  let daily: string;
  let receiver: Address;

  it('samples a daily stream at each 00:00 UTC due, to the wei through a rate change, a stop and a restart, and posts each interval', async () => {
    receiver = await freshAccount(chain);
    await price('2.50', epoch);
    await setFlow(chain, { sender, receiver, rate: r1 }, epoch + 30n);
    await mineAt(chain, epoch + 60n);
    daily = await register({ receiver, direction: 'inbound', priceSources: [{ type: 'manual' }] });
    expect((await findStream(api.pool, coop, daily))!.registeredAt).toMatchObject({ at: iso(epoch + 60n), flowRate: r1 });
    await setFlow(chain, { sender, receiver, rate: r2 }, epoch + DAY + 5n * HOUR + 17n);
    await setFlow(chain, { sender, receiver, rate: 0n }, epoch + 2n * DAY + 3n * HOUR);
    await setFlow(chain, { sender, receiver, rate: r3 }, epoch + 2n * DAY + 20n * HOUR);
    const reached = await mineAt(chain, epoch + 3n * DAY + 1n);

    const result = await run(epoch + 3n * DAY);
    expect(result).toEqual({ status: 'completed', instant: iso(epoch + 3n * DAY), streams: 1, samplesPosted: 3, unpriced: [], deadLettered: [] });

    const amounts = [r1 * (DAY - 60n), r1 * (5n * HOUR + 17n) + r2 * (DAY - 5n * HOUR - 17n), r2 * 3n * HOUR + r3 * 4n * HOUR];
    const got = await samples(daily);
    expect(got.map((s: { intervalStart: string; intervalEnd: string; amountWei: string }) => [s.intervalStart, s.intervalEnd, s.amountWei])).toEqual([
      [iso(epoch + 60n), iso(epoch + DAY), amounts[0]!.toString()],
      [iso(epoch + DAY), iso(epoch + 2n * DAY), amounts[1]!.toString()],
      [iso(epoch + 2n * DAY), iso(epoch + 3n * DAY), amounts[2]!.toString()],
    ]);
    // What the receiver got from the registration to the instant, by the chain's own account.
    const [received] = await readRealtimeBalances(chain.client, [{ token: chain.superToken, account: receiver }], { number: reached.number, timestamp: epoch + 3n * DAY });
    expect(amounts.reduce((a, b) => a + b)).toBe(received!.available - r1 * 30n);
    expect(got[2]).toMatchObject({ endFlowRate: r3.toString(), amountUsd: expect.any(String), pricing: { source: 'manual', averaging: 'spot', price: '2.5', observedAt: iso(epoch) } });

    const { rows } = await api.pool.query(
      `SELECT t.metadata->>'intervalEnd' AS "end", a.code, e.amount FROM transactions t JOIN entries e ON e.transaction_id = t.id JOIN accounts a ON a.id = e.account_id
        WHERE t.cooperative_id = $1 AND t.type = 'stream_sample' AND t.metadata->>'streamId' = $2 ORDER BY t.metadata->>'intervalEnd', a.code`,
      [coop, daily],
    );
    expect(rows.map((r) => [r.end, r.code, r.amount])).toEqual(
      amounts.flatMap((wei, i) => [[iso(epoch + BigInt(i + 1) * DAY), '1310', usdAt(wei, 250n)], [iso(epoch + BigInt(i + 1) * DAY), '4610', -usdAt(wei, 250n)]]),
    );
    const events = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'stream.sampled' AND aggregate_id = $2`, [coop, daily]);
    expect(events.rows).toHaveLength(3);
  });

  it('posts each interval once: a second run, the scheduled job for the same instant, or the same sample again change nothing', async () => {
    expect(await run(epoch + 3n * DAY)).toMatchObject({ status: 'completed', streams: 0, samplesPosted: 0 });
    const stream = (await findStream(api.pool, coop, daily))!;
    const first = (await samples(daily))[2];
    const again = await postStreamSample(api.pool, {
      stream, intervalStart: first.intervalStart, intervalEnd: first.intervalEnd, amountWei: 1n, endFlowRate: 0n, endBlock: 0n, pricing: null, amountUsd: 0n,
    });
    expect(again).toMatchObject({ replayed: true, sample: { id: first.id, amountWei: BigInt(first.amountWei) } });
    // A sample that does not start where the books stand is refused by the database.
    await expect(postStreamSample(api.pool, { stream, intervalStart: first.intervalStart, intervalEnd: iso(epoch + 4n * DAY), amountWei: 1n, endFlowRate: 0n, endBlock: 0n, pricing: null, amountUsd: 0n })).rejects.toThrow();
    expect(await samples(daily)).toHaveLength(3);
  });

  it("is what the stream-sampling schedule's run starts for each cooperative, once per instant", async () => {
    await mineAt(chain, epoch + 4n * DAY + 1n);
    const job = (scheduledFor: bigint) =>
      api.temporal.workflow.execute('scheduledJob', { workflowId: `stream-sampling-test-${randomUUID()}`, taskQueue, args: [{ job: 'stream-sampling', scheduledFor: iso(scheduledFor), cooperativeId: coop }] }) as Promise<ScheduledJobResult>;
    expect(await job(epoch + 4n * DAY)).toEqual({ status: 'completed', detail: { cooperatives: 1, started: 1 } });
    expect(await job(epoch + 4n * DAY)).toEqual({ status: 'completed', detail: { cooperatives: 1, started: 0 } });
    const sampled = await api.temporal.workflow.getHandle(streamSamplingWorkflowId(coop, iso(epoch + 4n * DAY))).result();
    expect(sampled).toMatchObject({ status: 'completed', samplesPosted: 1 });
    const described = await api.temporal.workflow.getHandle(streamSamplingWorkflowId(coop, iso(epoch + 4n * DAY))).describe();
    expect(described.searchAttributes).toMatchObject({ CooperativeId: [coop], BusinessStatus: ['completed'] });
  });

  it('leaves an interval no source can price open, with an alert, and posts it once a price comes', async () => {
    const hourly = await register({
      receiver: await freshAccount(chain), direction: 'outbound', account: 'member_compensation', samplingInterval: 'hourly',
      priceSources: [{ type: 'http', source: 'oracle', asset: 'dai' }, { type: 'manual', maxAgeSeconds: 60 }],
    });
    const stream = (await findStream(api.pool, coop, hourly))!;
    await setFlow(chain, { sender, receiver: stream.receiver, rate: r2 }, epoch + 4n * DAY + 600n);
    await mineAt(chain, epoch + 4n * DAY + 2n * HOUR + 1n);

    const unpriced = await run(epoch + 4n * DAY + 2n * HOUR);
    expect(unpriced).toMatchObject({ status: 'incomplete', streams: 1, samplesPosted: 0, unpriced: [hourly] });
    const alert = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'stream.price_unavailable' AND aggregate_id = $2`, [coop, hourly]);
    expect(alert.rows[0].payload).toMatchObject({ streamId: hourly, intervalStart: stream.registeredAt.at, intervalEnd: iso(epoch + 4n * DAY + HOUR) });
    expect(alert.rows[0].payload.reasons).toEqual([expect.stringMatching(/^http oracle:dai: /), expect.stringMatching(/^manual: the newest price is \d+ s old, over the limit of 60 s$/)]);
    expect(await samples(hourly)).toEqual([]);

    await price('1.00', epoch + 4n * DAY + HOUR - 10n);
    await price('1.01', epoch + 4n * DAY + 2n * HOUR - 5n);
    expect(await run(epoch + 4n * DAY + 2n * HOUR)).toMatchObject({ status: 'completed', samplesPosted: 2 });
    const posted = await samples(hourly);
    expect(posted.map((s: { pricing: { price: string; ageSeconds: string } }) => [s.pricing.price, s.pricing.ageSeconds])).toEqual([['1', '10'], ['1.01', '5']]);
    expect(posted[1].amountWei).toBe((r2 * HOUR).toString());
    expect(posted[1].amountUsd).toBe(formatMicros(usdAt(r2 * HOUR, 101n)));
  });

  it('hands a stream whose sampling fails beyond its retries to the dead-letter queue, whose retry samples it once', async () => {
    const broken = await register({ receiver: await freshAccount(chain), direction: 'inbound', priceSources: [{ type: 'manual' }] });
    failing.add(broken);
    await mineAt(chain, epoch + 5n * DAY + 1n);
    const result = await run(epoch + 5n * DAY);
    expect(result).toMatchObject({ status: 'incomplete', deadLettered: [broken] });
    failing.delete(broken);
    const item = await eventually(
      async () => (await api.pool.query(`SELECT operation_type, business_key, status, payload FROM dead_letter_items WHERE cooperative_id = $1 AND business_key LIKE $2`, [coop, `stream_sample:${broken}:%`])).rows[0],
      (row) => row?.status === 'succeeded',
    );
    expect(item).toMatchObject({ operation_type: 'stream_sample', business_key: `stream_sample:${broken}:${iso(epoch + 5n * DAY)}`, payload: { cooperativeId: coop, streamId: broken, upTo: iso(epoch + 5n * DAY) } });
    expect((await samples(broken)).map((s: { intervalEnd: string }) => s.intervalEnd).at(-1)).toBe(iso(epoch + 5n * DAY));
  });
});
