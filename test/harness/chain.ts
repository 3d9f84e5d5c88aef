import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createTestClient, http, parseEther, type Address, type Hash, type TestClient, type Transport } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { blockInstant, connectChain, nodeSignedWalletClient, type BlockInstant, type ChainClient } from '../../clients/chain';
import { cfaV1ForwarderAbi, superTokenAbi, testTokenAbi } from '../../clients/superfluid-abi';
import { startAnvil } from '../../scripts/anvil';
import { ensureSuperfluidDeployment } from '../../scripts/superfluid-deployment';
import { testConfig } from './stack';

/**
 * The run's Anvil (started by global-setup with Superfluid and its test super token deployed), with
 * Anvil's test actions: the chain's clock, impersonated accounts, balances.
 *
 * One Anvil serves the whole run. A test that sets the next block's timestamp must be the only one
 * mining until its transaction is in: test files that steer the clock in parallel need Anvils of their own.
 */
export interface TestChain {
  client: ChainClient;
  test: TestClient<'anvil'>;
  /** The test super token (fDAIx) and its underlying ERC-20 (fDAI, mintable by anyone). */
  superToken: Address;
  underlying: Address;
}

/**
 * The gas limit for Superfluid's flow transactions. The node's estimate can fall short: such a
 * transaction reverts on the estimated limit (seen: 336,319 given, 323,899 used) while the same call
 * with more gas succeeds, because the protocol checks gasleft() around its agreement calls.
 */
export const FLOW_TX_GAS = 1_500_000n;

export interface OwnTestChain extends TestChain {
  /** What points an API or worker at this chain (CHAIN_RPC_URL and Superfluid's addresses). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * An Anvil of the calling file's own, whose clock starts at `genesis` (Unix seconds) in the past, with
 * Superfluid deployed by its own script (about 3 s): for tests that steer the chain's clock through
 * instants of their choosing (the run's shared chain is at the present, and other files mine on it).
 */
export async function startOwnTestChain(genesis: bigint): Promise<OwnTestChain> {
  const dir = path.join(process.env.TEST_STATE_DIR ?? '.state/test', `own-chain-${randomUUID()}`);
  const log = () => undefined;
  const anvil = await startAnvil({ port: 0, genesisTimestamp: genesis, logFile: path.join(dir, 'anvil.log'), log });
  try {
    const deployment = await ensureSuperfluidDeployment({ rpcUrl: anvil.rpcUrl, file: path.join(dir, 'superfluid.json'), logFile: path.join(dir, 'deploy.log'), log });
    const env = { CHAIN_RPC_URL: anvil.rpcUrl, SUPERFLUID_HOST_ADDRESS: deployment.host, SUPERFLUID_CFA_FORWARDER_ADDRESS: deployment.cfaV1Forwarder };
    const client = await connectChain({ rpcUrl: anvil.rpcUrl, superfluid: { host: deployment.host, cfaV1Forwarder: deployment.cfaV1Forwarder }, transport: http(anvil.rpcUrl) });
    const test = createTestClient({ mode: 'anvil', chain: client.chain, transport: client.transport });
    return { client, test, superToken: deployment.testSuperToken.address, underlying: deployment.testSuperToken.underlying, env, stop: anvil.stop };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

export async function connectTestChain(transport?: Transport): Promise<TestChain> {
  const config = testConfig();
  if (!config.chain.external) throw new Error('CHAIN_RPC_URL is not set: run this through jest, whose global setup starts the chain');
  const client = await connectChain({ ...config.chain, transport });
  const test = createTestClient({ mode: 'anvil', chain: client.chain, transport: client.transport });
  return { client, test, superToken: requiredAddress('TEST_SUPER_TOKEN_ADDRESS'), underlying: requiredAddress('TEST_SUPER_TOKEN_UNDERLYING_ADDRESS') };
}

/** A new account no other test knows, with ETH for gas, whose transactions Anvil signs (impersonation). */
export async function freshAccount(chain: TestChain): Promise<Address> {
  const address = privateKeyToAddress(generatePrivateKey());
  await chain.test.impersonateAccount({ address });
  await chain.test.setBalance({ address, value: parseEther('100') });
  return address;
}

/** Gives `account` `amount` wei of the test super token: mints the underlying, then upgrades it. */
export async function fundWithSuperTokens(chain: TestChain, account: Address, amount: bigint): Promise<void> {
  const wallet = nodeSignedWalletClient(chain.client, account);
  await mined(chain, wallet.writeContract({ address: chain.underlying, abi: testTokenAbi, functionName: 'mint', args: [account, amount] }));
  await mined(chain, wallet.writeContract({ address: chain.underlying, abi: testTokenAbi, functionName: 'approve', args: [chain.superToken, amount] }));
  await mined(chain, wallet.writeContract({ address: chain.superToken, abi: superTokenAbi, functionName: 'upgrade', args: [amount] }));
}

/**
 * Waits for a sent transaction (Anvil mines each at once) and returns the instant of its block. One
 * that reverted fails with the reason, found by replaying it on the state before its block.
 */
export async function mined(chain: TestChain, sent: Promise<Hash>): Promise<BlockInstant> {
  const { publicClient } = chain.client;
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await sent, pollingInterval: 20 });
  if (receipt.status !== 'success') {
    const tx = await publicClient.getTransaction({ hash: receipt.transactionHash });
    const reason = await publicClient.call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, blockNumber: receipt.blockNumber - 1n }).then(
      () => 'it does not revert when replayed',
      (err: Error) => err.message,
    );
    throw new Error(`transaction ${receipt.transactionHash} reverted (gas limit ${tx.gas}, used ${receipt.gasUsed}): ${reason}`);
  }
  return blockInstant(chain.client, receipt.blockNumber);
}

/** Runs `send` so that its transaction's block has exactly `timestamp` (Unix seconds). */
export async function minedAt(chain: TestChain, timestamp: bigint, send: () => Promise<Hash>): Promise<BlockInstant> {
  await chain.test.setNextBlockTimestamp({ timestamp });
  return mined(chain, send());
}

/** Mines an empty block at exactly `timestamp`: an instant to read at. */
export async function mineAt(chain: TestChain, timestamp: bigint): Promise<BlockInstant> {
  await chain.test.setNextBlockTimestamp({ timestamp });
  await chain.test.mine({ blocks: 1 });
  return blockInstant(chain.client, 'latest');
}

function requiredAddress(name: string): Address {
  const value = process.env[name];
  if (!value?.startsWith('0x')) throw new Error(`${name} is not set: run this through jest, whose global setup deploys the test super token`);
  return value as Address;
}

/**
 * Makes the flow from `sender` to `receiver` run at `rate` wei per second (creating, updating or, at 0,
 * deleting it), in a block at exactly `at` when given. The sender needs super tokens (fundWithSuperTokens).
 */
export async function setFlow(chain: TestChain, flow: { sender: Address; receiver: Address; rate: bigint }, at?: bigint): Promise<BlockInstant> {
  const wallet = nodeSignedWalletClient(chain.client, flow.sender);
  const { cfaV1Forwarder: forwarder } = chain.client.superfluid;
  const current = await chain.client.publicClient.readContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'getFlowrate', args: [chain.superToken, flow.sender, flow.receiver] });
  const send = () =>
    flow.rate === 0n
      ? wallet.writeContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: 'deleteFlow', args: [chain.superToken, flow.sender, flow.receiver, '0x'], gas: FLOW_TX_GAS })
      : wallet.writeContract({ address: forwarder, abi: cfaV1ForwarderAbi, functionName: current === 0n ? 'createFlow' : 'updateFlow', args: [chain.superToken, flow.sender, flow.receiver, flow.rate, '0x'], gas: FLOW_TX_GAS });
  return at === undefined ? mined(chain, send()) : minedAt(chain, at, send);
}
