import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createTestClient, encodeFunctionData, http, parseEther, toHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { createCooperativeActivities } from '../activities/cooperatives';
import { boundaryBlock, blockInstant, connectChain, readFlows, type FlowKey } from '../clients/chain';
import { cfaV1EventsAbi, cfaV1ForwarderAbi, superTokenAbi, testTokenAbi } from '../clients/superfluid-abi';
import { projectRoot } from '../config/project-root';
import { requestHash } from '../db/idempotency';
import { toJsonParam } from '../db/json';
import { setManualPrice } from '../db/token-prices';
import { STREAM_SAMPLING_WORKFLOW_TYPE, streamSamplingWorkflowId, type StreamSamplingInput, type StreamSamplingResult } from '../domain/stream-sampling';
import { startAnvil } from '../scripts/anvil';
import { ensureSuperfluidDeployment } from '../scripts/superfluid-deployment';
import { log, machine, runBench, startBenchStack } from './stack';
import { recordFigures } from './figures';
import { printTable } from './table';

/**
 * `npm run bench` (or `npm run bench:streams` alone): one sampling run over BENCH_STREAMS (10,000)
 * Superfluid flows on Anvil — the sampling workflow on a real worker reads every flow's interval from
 * the chain, prices it and posts one ledger transaction per stream — next to, in the same run, the bare
 * on-chain reads of the same flows (getFlowInfo of each at the instant, batched by multicall). The
 * issue's aim: the run within 10 s; the seed's own figure is 100 streams a minute.
 *
 * The chain's clock starts two days ago. The flows start together, are registered, and a tenth of them
 * change rate six hours before the instant (yesterday 00:00 UTC), so the run reads a real history. The
 * run's result is checked: one sample per stream, and the wei booked equal, flow by flow, to the
 * integral of its rates.
 */
const STREAMS = Number(process.env.BENCH_STREAMS ?? 10_000);
const SENDERS = Math.max(1, Math.ceil(STREAMS / 100));
/** Transactions sent between two mined blocks. */
const TXS_PER_BLOCK = 1_000;
const FLOW_GAS = 1_500_000n;
const DAY = 86_400n;
const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  log(`Machine: ${machine()}; ${STREAMS} streams from ${SENDERS} senders, sampled in one run`);
  const today = (BigInt(Math.floor(Date.now() / 1000)) / DAY) * DAY;
  const genesis = today - 2n * DAY;
  const instant = today - DAY;

  const chainDir = path.join(projectRoot, '.state', 'bench-streams-chain');
  fs.rmSync(chainDir, { recursive: true, force: true });
  log('Starting Anvil and deploying Superfluid');
  const anvil = await startAnvil({ port: 0, genesisTimestamp: genesis, logFile: path.join(chainDir, 'anvil.log'), log });
  try {
    const deployment = await ensureSuperfluidDeployment({ rpcUrl: anvil.rpcUrl, file: path.join(chainDir, 'superfluid.json'), logFile: path.join(chainDir, 'deploy.log'), log });
    const stack = await startBenchStack('streams', {
      CHAIN_RPC_URL: anvil.rpcUrl, SUPERFLUID_HOST_ADDRESS: deployment.host, SUPERFLUID_CFA_FORWARDER_ADDRESS: deployment.cfaV1Forwarder,
    });
    try {
      // Seeding sends its transactions in JSON-RPC batches; the reads are made as the sampler makes them.
      const client = await connectChain({ rpcUrl: anvil.rpcUrl, superfluid: deployment, transport: http(anvil.rpcUrl, { batch: { batchSize: 250 }, timeout: 120_000 }) });
      const reader = await connectChain({ rpcUrl: anvil.rpcUrl, superfluid: deployment });
      const test = createTestClient({ mode: 'anvil', chain: client.chain, transport: client.transport });
      const token = deployment.testSuperToken.address;

      // Blocks are mined by hand, each one second after the last, so the chain's clock is the bench's.
      let clock = genesis + 60n;
      const mine = async (at = clock) => {
        await test.setNextBlockTimestamp({ timestamp: at });
        await test.mine({ blocks: 1 });
        clock = at + 1n;
        return blockInstant(client, 'latest');
      };
      // The node signs for the impersonated senders; nonces are set here, as several wait in one block.
      const rpc = client.publicClient.request as unknown as (args: { method: 'eth_sendTransaction'; params: [Record<string, string>] }) => Promise<Hex>;
      const nonces = new Map<Address, number>();
      const pending: Array<Promise<Hex>> = [];
      const send = async (from: Address, to: Address, data: Hex) => {
        const nonce = nonces.get(from) ?? 0;
        nonces.set(from, nonce + 1);
        pending.push(rpc({ method: 'eth_sendTransaction', params: [{ from, to, data, gas: toHex(FLOW_GAS), nonce: toHex(nonce) }] }));
        if (pending.length >= TXS_PER_BLOCK) await mineSent();
      };
      const mineSent = async () => {
        const hashes = await Promise.all(pending.splice(0));
        await mine();
        const receipts = await Promise.all(hashes.map((hash) => client.publicClient.getTransactionReceipt({ hash })));
        const failed = receipts.filter((r) => r.status !== 'success').length;
        if (failed > 0) throw new Error(`${failed} of ${receipts.length} seeding transactions reverted: see ${path.join(chainDir, 'anvil.log')}`);
      };

      const t0 = performance.now();
      await test.setAutomine(false);
      await test.setBlockGasLimit({ gasLimit: FLOW_GAS * BigInt(TXS_PER_BLOCK + 10) });
      const senders = Array.from({ length: SENDERS }, () => privateKeyToAddress(generatePrivateKey()));
      await Promise.all(senders.flatMap((address) => [test.impersonateAccount({ address }), test.setBalance({ address, value: parseEther('1000') })]));
      const funds = 10n ** 26n;
      for (const sender of senders) {
        await send(sender, deployment.testSuperToken.underlying, encodeFunctionData({ abi: testTokenAbi, functionName: 'mint', args: [sender, funds] }));
        await send(sender, deployment.testSuperToken.underlying, encodeFunctionData({ abi: testTokenAbi, functionName: 'approve', args: [token, funds] }));
        await send(sender, token, encodeFunctionData({ abi: superTokenAbi, functionName: 'upgrade', args: [funds] }));
      }
      await mineSent();
      const flows: Array<FlowKey & { rate: bigint }> = Array.from({ length: STREAMS }, (_, i) => ({
        token, sender: senders[i % SENDERS]!, receiver: privateKeyToAddress(generatePrivateKey()), rate: BigInt(1_000_000 + i) * 1_000n,
      }));
      for (const [i, f] of flows.entries()) {
        await send(f.sender, deployment.cfaV1Forwarder, encodeFunctionData({ abi: cfaV1ForwarderAbi, functionName: 'createFlow', args: [token, f.sender, f.receiver, f.rate, '0x'] }));
        if ((i + 1) % 2_000 === 0) log(`  ${i + 1} of ${STREAMS} flows created`);
      }
      await mineSent();
      const registered = await mine();
      log(`Seeded ${STREAMS} flows in ${secs(performance.now() - t0)} s; registering them as streams of one cooperative`);

      const cooperatives = createCooperativeActivities(stack.owner);
      const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `bench-${randomUUID().slice(0, 8)}`, name: 'Bench streams' })).id;
      await cooperatives.openCooperativeLedger(coop);
      await cooperatives.activateCooperative(coop);
      const priceSources = [{ type: 'manual', maxAgeSeconds: 3600 }];
      await stack.owner.query(
        `INSERT INTO streams (id, cooperative_id, token, sender, receiver, direction, account, sampling_interval, price_sources, price_averaging, denomination,
                              registered_at, registered_rate, registered_block, idempotency_key, request_hash)
         SELECT gen_random_uuid(), $1, x.token, x.sender, x.receiver, 'inbound', 'revenue', 'daily', $2::jsonb, 'spot', 'usd', $3, x.rate, $4, x.key, x.hash
           FROM jsonb_to_recordset($5::jsonb) AS x(token text, sender text, receiver text, rate numeric, key text, hash text)`,
        [
          coop, JSON.stringify(priceSources), iso(registered.timestamp), registered.number,
          toJsonParam(flows.map((f, i) => ({ ...f, key: `bench-stream-${i}`, hash: requestHash('register-stream', { i }) }))),
        ],
      );
      await setManualPrice(stack.pool, { cooperativeId: coop, token, price: 10n ** 18n, observedAt: iso(instant - 60n), reason: 'bench price', setBy: 'bench', idempotencyKey: 'bench-price' });

      // A tenth of the flows change rate six hours before the instant.
      const changeAt = instant - 6n * 3600n;
      clock = changeAt;
      const changed = flows.filter((_, i) => i % 10 === 0);
      for (const f of changed) {
        await send(f.sender, deployment.cfaV1Forwarder, encodeFunctionData({ abi: cfaV1ForwarderAbi, functionName: 'updateFlow', args: [token, f.sender, f.receiver, f.rate * 2n, '0x'] }));
      }
      if (pending.length > 0) await mineSent();
      await mine(instant + 1n);
      await test.setAutomine(true);
      // Every change is mined at changeAt + k for the k-th block of changes; the integral needs each one's time.
      const expected = new Map<string, bigint>();
      const changedAt = new Map<string, bigint>();
      for (const update of await client.publicClient.getContractEvents({ address: client.superfluid.cfaV1, abi: cfaV1EventsAbi, eventName: 'FlowUpdated', fromBlock: registered.number + 1n, strict: true })) {
        changedAt.set(update.args.receiver.toLowerCase(), (await blockInstant(client, update.blockNumber)).timestamp);
      }
      for (const f of flows) {
        const at = changedAt.get(f.receiver.toLowerCase());
        expected.set(f.receiver.toLowerCase(), at === undefined ? f.rate * (instant - registered.timestamp) : f.rate * (at - registered.timestamp) + f.rate * 2n * (instant - at));
      }

      log('Reference: the bare on-chain reads of the same flows at the instant (getFlowInfo, multicall)');
      const boundary = await boundaryBlock(client, instant, registered.number);
      const r0 = performance.now();
      const read = await readFlows(reader, flows, boundary);
      const readMs = performance.now() - r0;
      const wrongRates = read.filter((r, i) => r.flowRate !== (i % 10 === 0 ? flows[i]!.rate * 2n : flows[i]!.rate)).length;

      log(`Sampling run: ${STREAMS} streams at ${iso(instant)} through the stream-sampling workflow on the worker`);
      const input: StreamSamplingInput = { cooperativeId: coop, instant: iso(instant) };
      const s0 = performance.now();
      const result = (await stack.temporal.workflow.execute(STREAM_SAMPLING_WORKFLOW_TYPE, {
        workflowId: streamSamplingWorkflowId(coop, input.instant), taskQueue: stack.config.temporal.taskQueue, args: [input],
      })) as StreamSamplingResult;
      const runMs = performance.now() - s0;

      const { rows } = await stack.owner.query<{ receiver: string; amount_wei: string; transaction_id: string | null }>(
        `SELECT lower(s.receiver) AS receiver, x.amount_wei::text AS amount_wei, x.transaction_id FROM stream_samples x JOIN streams s ON s.id = x.stream_id WHERE x.cooperative_id = $1`,
        [coop],
      );
      const exact = rows.filter((r) => BigInt(r.amount_wei) === expected.get(r.receiver)).length;
      const posted = rows.filter((r) => r.transaction_id !== null).length;

      printTable(log, ['measure', 'streams', 'seconds', 'streams/s'], [
        ['sampling run: read, priced and posted', String(result.streams), secs(runMs), (result.streams / (runMs / 1000)).toFixed(0)],
        ['bare on-chain reads, multicall (reference)', String(read.length), secs(readMs), (read.length / (readMs / 1000)).toFixed(0)],
      ]);
      log(`Run: ${result.status}, ${result.samplesPosted} samples, ${posted} ledger transactions; ${exact} of ${STREAMS} streams booked exactly the wei of their flow's integral; ${wrongRates} flows read with an unexpected rate.`);
      recordFigures('stream-sampling', [
        { name: `sampling run, ${STREAMS.toLocaleString('en')} streams (${exact} exact to the wei)`, value: runMs / 1000, unit: 's', reference: { name: 'bare multicall reads', value: readMs / 1000 }, aim: '<= 10 s' },
      ]);
      log(`Aim: ${STREAMS} streams in 10 s or less. Measured ${secs(runMs)} s, ${(runMs / readMs).toFixed(1)}x the bare reads; the seed's figure is 100 streams a minute.`);
      if (exact !== STREAMS || result.status !== 'completed' || wrongRates > 0) process.exitCode = 1;
    } finally {
      await stack.stop();
    }
  } finally {
    await anvil.stop();
    fs.rmSync(chainDir, { recursive: true, force: true });
  }
}

runBench(main);
