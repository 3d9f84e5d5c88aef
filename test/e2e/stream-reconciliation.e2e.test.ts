import { randomUUID } from 'node:crypto';
import { parseAbi, type Address } from 'viem';
import { nodeSignedWalletClient } from '../../clients/chain';
import { setManualPrice } from '../../db/token-prices';
import { parsePrice } from '../../domain/prices';
import type { ScheduledJobResult } from '../../domain/scheduled-jobs';
import { streamReconciliationWorkflowId } from '../../domain/stream-reconciliation';
import { STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId, type StreamSamplingInput, type StreamSamplingResult } from '../../domain/stream-sampling';
import { freshAccount, fundWithSuperTokens, mineAt, mined, setFlow, startOwnTestChain, type OwnTestChain } from '../harness/chain';
import { provisionCooperative } from '../harness/ledger';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

const HOUR = 3_600n;
const DAY = 24n * HOUR;
const erc20 = parseAbi(['function transfer(address to, uint256 amount) returns (bool)']);

interface Finding {
  check: string;
  cooperativeId: string;
  subject: string;
  detail: string;
}

/**
 * The daily stream reconciliation and the weekly backfill, on a chain of this file's own: each
 * cooperative's run is its own workflow and reconciliation run, so this file's jobs are narrowed to its
 * cooperative (as an operator's would be) and leave other files' cooperatives, on other chains, alone.
 */
describe('stream reconciliation and backfill', () => {
  const taskQueue = `stream-recon-${randomUUID().slice(0, 8)}`;
  const now = new Date();
  const epoch = BigInt(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 9, 1) / 1000);
  const iso = (s: bigint) => new Date(Number(s) * 1000).toISOString();
  let chain: OwnTestChain;
  let api: TestApi;
  let worker: TestWorker;
  let coop: string;
  let admin: string;
  let bound: string;
  let payer: Address;
  let treasury: Address;
  let outsider: Address;

  beforeAll(async () => {
    chain = await startOwnTestChain(epoch - HOUR);
    const env = { ...chain.env, TEMPORAL_TASK_QUEUE: taskQueue };
    [api, worker] = await Promise.all([startTestApi(env), startTestWorker({ taskQueue, env })]);
    coop = await provisionCooperative(api.pool);
    admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    bound = await api.token({ subject: 'op-bound', role: 'operator', cooperativeId: coop });
    [payer, treasury, outsider] = [await freshAccount(chain), await freshAccount(chain), await freshAccount(chain)];
    await fundWithSuperTokens(chain, payer, 10n ** 27n);
    await fundWithSuperTokens(chain, treasury, 10n ** 24n);
    await fundWithSuperTokens(chain, outsider, 10n ** 24n);
    await setManualPrice(api.pool, { cooperativeId: coop, token: chain.superToken, price: parsePrice('1'), observedAt: iso(epoch), reason: 'peg', setBy: 'op', idempotencyKey: randomUUID() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
    await chain?.stop();
  });

  const register = async (body: Record<string, unknown>) => {
    const res = await api.request('POST', `/v1/cooperatives/${coop}/streams`, { token: admin, body: { token: chain.superToken, priceSources: [{ type: 'manual', maxAgeSeconds: 366 * 86_400 }], ...body }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const job = (name: string, scheduledFor: bigint, cooperativeId?: string) =>
    api.temporal.workflow.execute('scheduledJob', { workflowId: `${name}-test-${randomUUID()}`, taskQueue, args: [{ job: name, scheduledFor: iso(scheduledFor), ...(cooperativeId ? { cooperativeId } : {}) }] }) as Promise<ScheduledJobResult>;
  const sample = (instant: bigint) => {
    const input: StreamSamplingInput = { cooperativeId: coop, instant: iso(instant) };
    return api.temporal.workflow.execute(STREAM_SAMPLING_WORKFLOW_TYPE, { workflowId: `sampling-${randomUUID()}`, taskQueue, args: [input] }) as Promise<StreamSamplingResult>;
  };
  /** This file's cooperative's run for the instant, as the schedule's job starts it, and its findings. */
  async function reconcile(scheduledFor: bigint): Promise<{ runId: string; findings: Finding[] }> {
    expect(await job('stream-reconciliation', scheduledFor, coop)).toEqual({ status: 'completed', detail: { cooperatives: 1, started: 1 } });
    const handle = api.temporal.workflow.getHandle(streamReconciliationWorkflowId(coop, iso(scheduledFor)));
    const result = (await handle.result()) as ScheduledJobResult;
    const runId = result.detail.runId as string;
    expect((await handle.describe()).searchAttributes).toMatchObject({ CooperativeId: [coop], BusinessStatus: [result.status] });
    const run = await api.request('GET', `/v1/operations/reconciliations/${runId}`, { token: bound });
    expect(run.body).toMatchObject({ kind: 'streams', cooperativeId: coop, scheduledFor: iso(scheduledFor), checks: [{ name: 'samples_match_chain_history' }, { name: 'account_balance_matches_samples' }] });
    return { runId, findings: run.body.findings };
  }

  it('finds the books and the chain in agreement while the cooperative accounts move only by their streams (a sender counting its buffer deposit)', async () => {
    await mineAt(chain, epoch + 60n);
    await register({ sender: payer, receiver: treasury, direction: 'inbound' });
    await register({ sender: treasury, receiver: await freshAccount(chain), direction: 'outbound', account: 'expense' });
    await setFlow(chain, { sender: payer, receiver: treasury, rate: 1_157_407_407_407_407n }, epoch + 100n);
    // The treasury pays a third of what it gets: its buffer deposit leaves its available balance, and is still its own.
    const outbound = (await api.request('GET', `/v1/cooperatives/${coop}/streams?limit=1`, { token: admin })).body.items[0];
    await setFlow(chain, { sender: treasury, receiver: outbound.receiver, rate: 385_802_469_135_802n }, epoch + 200n);
    for (const day of [1n, 2n]) {
      await mineAt(chain, epoch + day * DAY + 1n);
      expect(await sample(epoch + day * DAY)).toMatchObject({ status: 'completed' });
      // The first run records where each account stands; the second compares.
      expect((await reconcile(epoch + day * DAY + 1_800n)).findings).toEqual([]);
    }
  });

  it('raises an alert when an account moves outside its streams: a transfer nobody booked', async () => {
    await mined(chain, nodeSignedWalletClient(chain.client, outsider).writeContract({ address: chain.superToken, abi: erc20, functionName: 'transfer', args: [treasury, 10n ** 23n] }));
    await mineAt(chain, epoch + 3n * DAY + 1n);
    expect(await sample(epoch + 3n * DAY)).toMatchObject({ status: 'completed' });
    const { runId, findings } = await reconcile(epoch + 3n * DAY + 1_800n);
    expect(findings).toEqual([
      { check: 'account_balance_matches_samples', cooperativeId: coop, subject: `account ${treasury} of token ${chain.superToken}`, detail: expect.stringMatching(/a difference of 100000000000000000000000 wei, over 10 %/) },
    ]);
    const alert = await api.pool.query(`SELECT payload FROM outbox WHERE cooperative_id = $1 AND event_type = 'reconciliation.alert' AND aggregate_id = $2`, [coop, runId]);
    expect(alert.rows[0].payload).toMatchObject({ runId, kind: 'streams', failedChecks: expect.arrayContaining(['account_balance_matches_samples']), findings: 1 });
    const operator = await api.token({ subject: 'op', role: 'operator' });
    const listed = await api.request('GET', `/v1/operations/reconciliations?kind=streams&status=failed&cooperativeId=${coop}`, { token: operator });
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([runId]);
    // The same instant is the same run: not started again, and it raises nothing again.
    expect((await job('stream-reconciliation', epoch + 3n * DAY + 1_800n, coop)).detail).toEqual({ cooperatives: 1, started: 0 });
    expect((await api.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE event_type = 'reconciliation.alert' AND aggregate_id = $1 AND cooperative_id = $2`, [runId, coop])).rows[0].n).toBe(1);
  });

  it('finds a sample the chain no longer agrees with, as after a reorganisation', async () => {
    const before = (await chain.test.snapshot()) as `0x${string}`;
    await setFlow(chain, { sender: payer, receiver: treasury, rate: 2_000_000_000_000_000n }, epoch + 3n * DAY + 2n * HOUR);
    await mineAt(chain, epoch + 4n * DAY + 1n);
    expect(await sample(epoch + 4n * DAY)).toMatchObject({ status: 'completed' });
    // The chain drops those blocks and goes on without the rate change.
    await chain.test.revert({ id: before });
    await mineAt(chain, epoch + 4n * DAY + 2n);
    const { findings } = await reconcile(epoch + 4n * DAY + 1_800n);
    expect(findings.filter((f) => f.check === 'samples_match_chain_history')).toEqual([
      expect.objectContaining({ subject: expect.stringContaining(`[${iso(epoch + 3n * DAY)}, ${iso(epoch + 4n * DAY)})`), detail: expect.stringMatching(/ending at 2000000000000000 wei\/s; the chain's history says \d+ wei ending at 1157407407407407 wei\/s/) }),
    ]);
  });

  it('backfills, weekly, the instants a stream missed: one run per cooperative samples each in order', async () => {
    const hourly = await register({ sender: payer, receiver: await freshAccount(chain), direction: 'inbound', samplingInterval: 'hourly' });
    await mineAt(chain, epoch + 4n * DAY + 5n * HOUR + 1n);
    // No run sampled it since: five hours are missing.
    const result = await job('stream-backfill', epoch + 4n * DAY + 5n * HOUR, coop);
    expect(result).toMatchObject({ status: 'completed', detail: { cooperatives: 1, started: 1, streams: expect.arrayContaining([hourly]) } });
    const run = await api.temporal.workflow.getHandle(streamSamplingWorkflowId(coop, iso(epoch + 4n * DAY + 5n * HOUR), 'backfill')).result();
    expect(run).toMatchObject({ status: 'completed' });
    const samples = (await api.request('GET', `/v1/cooperatives/${coop}/streams/${hourly}/samples`, { token: admin })).body.items.reverse();
    expect(samples.map((s: { intervalEnd: string }) => s.intervalEnd)).toEqual([1n, 2n, 3n, 4n, 5n].map((h) => iso(epoch + 4n * DAY + h * HOUR)));
    // Caught up: the next week finds nothing behind.
    expect(await job('stream-backfill', epoch + 4n * DAY + 5n * HOUR + 1n, coop)).toMatchObject({ detail: { streamsBehind: 0, started: 0 } });
  });
});
