import fs from 'node:fs';
import path from 'node:path';
import { http, type Abi, type AbiParameter, type Address } from 'viem';
import { blockInstant, readFlows, readFlowUpdates, readRealtimeBalances, nodeSignedWalletClient, type BlockInstant } from '../../clients/chain';
import { cfaV1EventsAbi, cfaV1ForwarderAbi, superfluidHostAbi, superTokenAbi } from '../../clients/superfluid-abi';
import { projectRoot } from '../../config/project-root';
import { connectTestChain, FLOW_TX_GAS, freshAccount, fundWithSuperTokens, mineAt, minedAt, mined, type TestChain } from '../harness/chain';

/**
 * The embedded Anvil with Superfluid deployed by its own scripts, read through clients/chain.ts. The
 * fact stream sampling rests on: between two instants, a receiver's balance grows by exactly each
 * rate times the seconds it ran, to the wei, and the FlowUpdated history alone gives the same sum.
 */
describe('chain: Superfluid on Anvil through clients/chain.ts', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await connectTestChain();
  });

  it("declares every Superfluid function and event exactly as ethereum-contracts' artifacts do", () => {
    const artifacts = path.join(projectRoot, 'chain', 'node_modules', '@superfluid-finance', 'ethereum-contracts', 'build', 'hardhat', 'contracts');
    const artifact = (file: string) => (JSON.parse(fs.readFileSync(path.join(artifacts, file), 'utf8')) as { abi: Abi }).abi;
    const pairs: Array<[Abi, Abi]> = [
      [cfaV1ForwarderAbi, artifact('utils/CFAv1Forwarder.sol/CFAv1Forwarder.json')],
      [superTokenAbi, artifact('interfaces/superfluid/ISuperToken.sol/ISuperToken.json')],
      [cfaV1EventsAbi, artifact('interfaces/agreements/IConstantFlowAgreementV1.sol/IConstantFlowAgreementV1.json')],
      [superfluidHostAbi, artifact('interfaces/superfluid/ISuperfluid.sol/ISuperfluid.json')],
    ];
    for (const [ours, theirs] of pairs) {
      for (const item of ours) {
        const signature = shape(item);
        expect(theirs.map(shape)).toContainEqual(signature);
      }
    }
  });

  it('streams at rate × seconds to the wei through a rate change and a stop, and the FlowUpdated history gives the same sum', async () => {
    const { client } = chain;
    const token = chain.superToken;
    const [sender, receiver] = [await freshAccount(chain), await freshAccount(chain)];
    const funding = 1_000_000n * 10n ** 18n;
    await fundWithSuperTokens(chain, sender, funding);
    const wallet = nodeSignedWalletClient(client, sender);
    const forwarder = client.superfluid.cfaV1Forwarder;
    // Rates that divide nothing evenly (wei per second): about 1,000 and 3,000 tokens a month.
    const rate1 = 385_802_469_135_802n;
    const rate2 = 1_157_407_407_407_407n;

    const t0 = (await blockInstant(client)).timestamp + 1_000n;
    const created = await minedAt(chain, t0, () => wallet.writeContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'createFlow', args: [token, sender, receiver, rate1, '0x'], gas: FLOW_TX_GAS }));
    const hourLater = await mineAt(chain, t0 + 3_600n);
    const t1 = t0 + 86_417n;
    const updated = await minedAt(chain, t1, () => wallet.writeContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'updateFlow', args: [token, sender, receiver, rate2, '0x'], gas: FLOW_TX_GAS }));
    const during = await mineAt(chain, t1 + 1_000n);
    const t2 = t1 + 43_201n;
    const deleted = await minedAt(chain, t2, () => wallet.writeContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'deleteFlow', args: [token, sender, receiver, '0x'], gas: FLOW_TX_GAS }));
    const dayAfter = await mineAt(chain, t2 + 86_400n);
    expect([created.timestamp, updated.timestamp, deleted.timestamp]).toEqual([t0, t1, t2]);

    const received = async (at: BlockInstant) => (await readRealtimeBalances(client, [{ token, account: receiver }], at))[0]!.available;
    const streamedBy = (t: bigint) => (t <= t1 ? rate1 * (t - t0) : t <= t2 ? rate1 * (t1 - t0) + rate2 * (t - t1) : rate1 * (t1 - t0) + rate2 * (t2 - t1));
    for (const at of [created, hourLater, updated, during, deleted, dayAfter]) {
      expect({ at: at.timestamp, received: await received(at) }).toEqual({ at: at.timestamp, received: streamedBy(at.timestamp) });
    }
    expect((await received(hourLater)) - (await received(created))).toBe(rate1 * 3_600n);
    // balanceOf at a block is the realtime balance at that block's timestamp.
    expect(await client.publicClient.readContract({ address: token, abi: superTokenAbi, functionName: 'balanceOf', args: [receiver], blockNumber: during.number })).toBe(await received(during));

    // The sender pays exactly what the receiver gets; its buffer deposit is locked while the flow runs and returned at the stop.
    const [whileRunning] = await readRealtimeBalances(client, [{ token, account: sender }], during);
    expect(whileRunning!.available + whileRunning!.deposit).toBe(funding - streamedBy(during.timestamp));
    const [afterStop] = await readRealtimeBalances(client, [{ token, account: sender }], dayAfter);
    expect(afterStop).toMatchObject({ available: funding - streamedBy(t2), deposit: 0n });

    const updates = await readFlowUpdates(client, { token, sender, receiver }, { fromBlock: created.number, toBlock: dayAfter.number });
    expect(updates.map((u) => ({ rate: u.flowRate, at: u.timestamp, block: u.blockNumber }))).toEqual([
      { rate: rate1, at: t0, block: created.number },
      { rate: rate2, at: t1, block: updated.number },
      { rate: 0n, at: t2, block: deleted.number },
    ]);
    const integral = updates.reduce((sum, u, i) => sum + u.flowRate * ((updates[i + 1]?.timestamp ?? dayAfter.timestamp) - u.timestamp), 0n);
    expect(integral).toBe(await received(dayAfter));

    const [running] = await readFlows(client, [{ token, sender, receiver }], during);
    const buffer = await client.publicClient.readContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'getBufferAmountByFlowrate', args: [token, rate2], blockNumber: during.number });
    expect(running).toMatchObject({ lastUpdated: t1, flowRate: rate2, deposit: buffer, owedDeposit: 0n });
    expect(await client.publicClient.readContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'getFlowrate', args: [token, sender, receiver], blockNumber: hourLater.number })).toBe(rate1);
    const [stopped] = await readFlows(client, [{ token, sender, receiver }], dayAfter);
    expect(stopped).toMatchObject({ lastUpdated: 0n, flowRate: 0n, deposit: 0n });
  });

  it('reads many flows at one instant in a single eth_call (deployless multicall)', async () => {
    const token = chain.superToken;
    const sender = await freshAccount(chain);
    await fundWithSuperTokens(chain, sender, 1_000_000n * 10n ** 18n);
    const wallet = nodeSignedWalletClient(chain.client, sender);
    const receivers: Address[] = [];
    for (let i = 1; i <= 40; i++) {
      const receiver = await freshAccount(chain);
      receivers.push(receiver);
      await mined(chain, wallet.writeContract({ address: chain.client.superfluid.cfaV1Forwarder, abi: cfaV1ForwarderAbi, functionName: 'createFlow', args: [token, sender, receiver, BigInt(i) * 1_000_000_007n, '0x'], gas: FLOW_TX_GAS }));
    }
    const stranger = await freshAccount(chain);
    const at = await blockInstant(chain.client);

    // A client of its own that counts the eth_call requests it sends.
    let ethCalls = 0;
    const counting = await connectTestChain(
      http(chain.client.chain.rpcUrls.default.http[0], {
        onFetchRequest: (_request, init) => {
          if (typeof init.body === 'string' && init.body.includes('"eth_call"')) ethCalls++;
        },
      }),
    );
    ethCalls = 0; // connecting asked the host for the agreement
    const flows = await readFlows(counting.client, [...receivers.map((receiver) => ({ token, sender, receiver })), { token, sender, receiver: stranger }], at);
    expect(ethCalls).toBe(1);
    expect(flows.map((f) => f.flowRate)).toEqual([...receivers.map((_, i) => BigInt(i + 1) * 1_000_000_007n), 0n]);
    expect(flows[39]).toMatchObject({ sender, receiver: receivers[39], token });
    const single = await chain.client.publicClient.readContract({ address: chain.client.superfluid.cfaV1Forwarder, abi: cfaV1ForwarderAbi, functionName: 'getFlowInfo', args: [token, sender, receivers[20]!], blockNumber: at.number });
    expect([flows[20]!.lastUpdated, flows[20]!.flowRate, flows[20]!.deposit, flows[20]!.owedDeposit]).toEqual([...single]);
  });
});

/** An ABI item as the chain sees it: kind, name, parameter types (and which are indexed), outputs, mutability. */
function shape(item: Abi[number]): unknown {
  const params = (list: readonly AbiParameter[] | undefined) => (list ?? []).map((p) => `${p.type}${'indexed' in p && p.indexed ? ' indexed' : ''}`);
  return {
    type: item.type,
    name: 'name' in item ? item.name : undefined,
    inputs: params('inputs' in item ? item.inputs : undefined),
    outputs: params('outputs' in item ? item.outputs : undefined),
    stateMutability: 'stateMutability' in item ? item.stateMutability : undefined,
  };
}
