import { randomUUID } from 'node:crypto';
import type { Address } from 'viem';
import { readRealtimeBalances } from '../../clients/chain';
import { postStreamSample } from '../../db/ledger';
import { findStream } from '../../db/streams';
import { setManualPrice } from '../../db/token-prices';
import { periodBounds, periodCloseWorkflowId, periodOf } from '../../domain/accounting-periods';
import { parsePrice } from '../../domain/prices';
import { freshAccount, fundWithSuperTokens, mineAt, setFlow, startOwnTestChain, type OwnTestChain } from '../harness/chain';
import { provisionCooperative } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

const HOUR = 3_600n;
const DAY = 24n * HOUR;

/**
 * Closing accounting periods on a chain of this file's own: every stream is sampled at the period's
 * exact boundary before the period closes, whatever its interval; the samples of consecutive periods
 * add up to the chain's own integral of the flow to the wei, through a rate change and a stop mid-period;
 * a close waits while a stream cannot be priced; and nothing posts into a closed period.
 */
describe('period close', () => {
  const taskQueue = `periods-${randomUUID().slice(0, 8)}`;
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 9, 1));
  const [p0, p1] = [periodOf(first), periodOf(periodBounds(periodOf(first)).end)];
  const seconds = (d: Date) => BigInt(d.getTime() / 1000);
  const e0 = seconds(periodBounds(p0).start);
  const e1 = seconds(periodBounds(p1).start);
  const e2 = seconds(periodBounds(p1).end);
  const iso = (s: bigint) => new Date(Number(s) * 1000).toISOString();
  let chain: OwnTestChain;
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  let sender: Address;

  beforeAll(async () => {
    chain = await startOwnTestChain(e0 - HOUR);
    const env = { ...chain.env, TEMPORAL_TASK_QUEUE: taskQueue };
    [api, worker] = await Promise.all([startTestApi(env), startTestWorker({ taskQueue, env })]);
    coop = await provisionCooperative(api.pool);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    sender = await freshAccount(chain);
    await fundWithSuperTokens(chain, sender, 10n ** 27n);
    await setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: parsePrice('1'), observedAt: iso(e0), reason: 'peg', setBy: 'op', idempotencyKey: randomUUID() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
    await chain?.stop();
  });

  async function register(body: Record<string, unknown>): Promise<string> {
    const res = await api.request('POST', `/v1/cooperatives/${coop}/streams`, { token: admin, body: { token: chain.superToken, sender, direction: 'inbound', ...body }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  const close = (period: string) => api.request('POST', `/v1/cooperatives/${coop}/periods/${period}/close`, { token: admin });
  const samples = async (streamId: string) =>
    ((await api.request('GET', `/v1/cooperatives/${coop}/streams/${streamId}/samples?limit=500`, { token: admin })).body.items as Array<{ intervalStart: string; intervalEnd: string; amountWei: string }>).reverse();
  const total = (list: Array<{ amountWei: string }>) => list.reduce((sum, s) => sum + BigInt(s.amountWei), 0n);

  const rate1 = 385_802_469_135_802n;
  const rate2 = 1_157_407_407_407_407n;
  let weekly: string;
  let weeklyReceiver: Address;
  let periodEnd: string;
  let periodEndReceiver: Address;

  it('samples every stream at the exact boundary before the period closes, whatever its interval', async () => {
    [weeklyReceiver, periodEndReceiver] = [await freshAccount(chain), await freshAccount(chain)];
    await mineAt(chain, e0 + 500n);
    weekly = await register({ receiver: weeklyReceiver, samplingInterval: 'weekly', priceSources: [{ type: 'manual', maxAgeSeconds: 366 * 86_400 }] });
    periodEnd = await register({ receiver: periodEndReceiver, samplingInterval: 'period_end', priceSources: [{ type: 'manual', maxAgeSeconds: 366 * 86_400 }] });
    await setFlow(chain, { sender, receiver: weeklyReceiver, rate: rate1 }, e0 + 1_000n);
    await setFlow(chain, { sender, receiver: periodEndReceiver, rate: rate2 }, e0 + 2_000n);
    // A rate change in the middle of the first period.
    await setFlow(chain, { sender, receiver: weeklyReceiver, rate: rate2 }, e0 + 10n * DAY + 7n);
    await mineAt(chain, e1 + 5n);

    const res = await close(p0);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ cooperativeId: coop, period: p0, status: 'closed', startsAt: iso(e0), endsAt: iso(e1), requestedBy: 'admin', closedAt: expect.any(String) });
    for (const id of [weekly, periodEnd]) expect((await samples(id)).at(-1)!.intervalEnd).toBe(iso(e1));
    expect((await samples(periodEnd)).map((s) => [s.intervalStart, s.intervalEnd])).toEqual([[iso(e0 + 500n), iso(e1)]]);
    expect(res.body.streamSamples.count).toBe((await samples(weekly)).length + 1);
    const event = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'period.closed'`, [coop]);
    expect(event.rows.map((r) => r.payload)).toEqual([expect.objectContaining({ period: p0, streamSamples: res.body.streamSamples.count, streamAmountUsd: res.body.streamSamples.amountUsd })]);
    const described = await api.temporal.workflow.getHandle(periodCloseWorkflowId(coop, p0)).describe();
    expect(described.searchAttributes).toMatchObject({ CooperativeId: [coop], BusinessStatus: ['closed'] });

    // Closing again answers the closed period; a period that has not ended cannot close.
    expect((await close(p0)).body).toMatchObject({ status: 'closed', closedAt: res.body.closedAt });
    const current = await close(periodOf(new Date()));
    expect([current.status, current.body.error.code]).toEqual([409, 'CONFLICT']);
  });

  it('waits, blocked, while a stream cannot be priced at the boundary, and closes once it can', async () => {
    const fussy = await register({ receiver: await freshAccount(chain), samplingInterval: 'daily', priceSources: [{ type: 'manual', maxAgeSeconds: 60 }] });
    const fussyStream = (await findStream(api.pool, coop, fussy))!;
    await setFlow(chain, { sender, receiver: fussyStream.receiver, rate: rate1 }, e1 + 2n * DAY);
    // A stop in the middle of the second period.
    await setFlow(chain, { sender, receiver: weeklyReceiver, rate: 0n }, e1 + 3n * DAY + 11n);
    const reached = await mineAt(chain, e2 + 5n);
    for (let day = e1 + DAY; day < e2; day += DAY) {
      await setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: parsePrice('1'), observedAt: iso(day - 30n), reason: 'daily', setBy: 'op', idempotencyKey: randomUUID() });
    }

    const blocked = await close(p1);
    expect(blocked.status).toBe(202);
    expect(blocked.body).toMatchObject({ period: p1, status: 'closing', close: { workflowId: periodCloseWorkflowId(coop, p1), status: 'blocked', blockedBy: expect.stringContaining(fussy) } });
    expect((await samples(fussy)).at(-1)!.intervalEnd).toBe(iso(e2 - DAY));

    await setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: parsePrice('1'), observedAt: iso(e2 - 30n), reason: 'month end', setBy: 'op', idempotencyKey: randomUUID() });
    const closed = await close(p1);
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');

    // Over both periods, the weekly stream's samples are what the chain says its receiver got, to the wei.
    const all = await samples(weekly);
    expect(all.filter((s) => s.intervalEnd === iso(e1)).length).toBe(1);
    const [received] = await readRealtimeBalances(chain.client, [{ token: chain.superToken, account: weeklyReceiver }], { number: reached.number, timestamp: e2 });
    expect(total(all)).toBe(received!.available);
    expect(total(all)).toBe(rate1 * (10n * DAY + 7n - 1_000n) + rate2 * (e1 + 3n * DAY + 11n - (e0 + 10n * DAY + 7n)));
    const [other] = await readRealtimeBalances(chain.client, [{ token: chain.superToken, account: periodEndReceiver }], { number: reached.number, timestamp: e2 });
    expect(total(await samples(periodEnd))).toBe(other!.available);
  });

  it('posts nothing into a closed period', async () => {
    // A stream whose books would start inside the closed first period (as if the chain's clock had lagged at its registration).
    const late = await register({ receiver: await freshAccount(chain), priceSources: [{ type: 'manual' }] });
    await api.pool.query('UPDATE streams SET registered_at = $2 WHERE id = $1', [late, iso(e0 + 3n * DAY)]);
    const stream = (await findStream(api.pool, coop, late))!;
    await expect(
      postStreamSample(api.pool, { stream, intervalStart: iso(e0 + 3n * DAY), intervalEnd: iso(e0 + 4n * DAY), amountWei: 0n, endFlowRate: 0n, endBlock: 0n, pricing: null, amountUsd: 0n }),
    ).rejects.toMatchObject({ constraint: 'stream_samples_period_closed' });
    await expect(api.pool.query(`UPDATE accounting_periods SET status = 'closing', closed_at = NULL WHERE cooperative_id = $1 AND period = $2`, [coop, p0])).rejects.toThrow(/is closed/);
  });
});
