import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Address,
  type BlockTag,
  type Chain,
  type Hash,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import type { Config, SuperfluidSettings } from '../config/config';
import type { FlowKey } from '../domain/streams';
import { CFA_V1_AGREEMENT_TYPE, cfaV1EventsAbi, cfaV1ForwarderAbi, superfluidHostAbi, superTokenAbi } from './superfluid-abi';

/**
 * The chain client shared by the API and the workers: viem on CHAIN_RPC_URL (or the embedded Anvil),
 * Superfluid's addresses on it, and the reads stream accounting is built on. Every read names the
 * block it was made at, with that block's timestamp, so a sample is an exact instant on the chain's
 * own clock, never the computer's.
 */

export interface SuperfluidAddresses extends SuperfluidSettings {
  /** The constant flow agreement, which emits FlowUpdated; found through the host. */
  cfaV1: Address;
}

export interface ChainClient {
  chain: Chain;
  transport: Transport;
  publicClient: PublicClient<Transport, Chain>;
  superfluid: SuperfluidAddresses;
}

/** A block and its timestamp (Unix seconds): the instant a read is made at. */
export interface BlockInstant {
  number: bigint;
  timestamp: bigint;
}

export type { FlowKey };

/** A flow's state at an instant. `flowRate` is in the token's smallest unit (wei) per second; 0 when there is none. */
export interface FlowInfo extends FlowKey {
  lastUpdated: bigint;
  flowRate: bigint;
  deposit: bigint;
  owedDeposit: bigint;
}

/** One FlowUpdated event: the flow's new rate from `timestamp` on (0 = deleted). */
export interface FlowUpdate extends FlowKey {
  flowRate: bigint;
  blockNumber: bigint;
  logIndex: number;
  timestamp: bigint;
  transactionHash: Hash;
}

export interface RealtimeBalance {
  token: Address;
  account: Address;
  /** What the account could move: can be negative for a critical (insolvent) sender. */
  available: bigint;
  /** The buffer the account has locked as a sender, refunded when its flows stop. */
  deposit: bigint;
  owedDeposit: bigint;
}

/**
 * The largest calldata of one multicall request. getFlowInfo is 100 bytes, so 200 flows per eth_call.
 * Measured on Anvil, whose calls may use 30 M gas like a block: 300 flows fit in one call, 600 ran
 * out of gas; 10,000 flows took 50 requests and 2 to 3 s. viem's default (1 kB) would send one
 * request per ten flows.
 */
const MULTICALL_CHUNK_BYTES = 20_000;

/**
 * Connects to the chain and checks that Superfluid is where the configuration says, so a wrong RPC URL
 * or address fails at start with the variable to fix rather than at the first sample.
 */
export async function connectChain(opts: { rpcUrl: string; superfluid: SuperfluidSettings; transport?: Transport }): Promise<ChainClient> {
  const transport = opts.transport ?? http(opts.rpcUrl);
  const chainId = await createPublicClient({ transport })
    .getChainId()
    .catch((err: unknown) => {
      throw new Error(`No chain answers at ${opts.rpcUrl} (${errorMessage(err)}). Start it, or set CHAIN_RPC_URL to a node that runs.`);
    });
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [opts.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport });
  const { host, cfaV1Forwarder } = opts.superfluid;
  await requireContract(publicClient, host, 'SUPERFLUID_HOST_ADDRESS');
  await requireContract(publicClient, cfaV1Forwarder, 'SUPERFLUID_CFA_FORWARDER_ADDRESS');
  const cfaV1 = await publicClient.readContract({ address: host, abi: superfluidHostAbi, functionName: 'getAgreementClass', args: [CFA_V1_AGREEMENT_TYPE] });
  return { chain, transport, publicClient, superfluid: { host, cfaV1Forwarder, cfaV1 } };
}

/** The chain client, connected on first use: the API and worker start without waiting for the chain. */
export type ChainConnector = () => Promise<ChainClient>;

/**
 * Connects on first use and keeps the connection. A failed attempt is not kept, so the next use tries
 * again (the chain was down, or not yet up). Without a configured chain (CHAIN_RPC_URL; the start
 * command passes the embedded one's) every use fails with what to set.
 */
export function chainConnector(chain: Config['chain']): ChainConnector {
  let connecting: Promise<ChainClient> | undefined;
  return () => {
    if (!chain.external) return Promise.reject(new Error('No chain is configured: set CHAIN_RPC_URL and SUPERFLUID_HOST_ADDRESS (npm start sets them for the embedded chain)'));
    connecting ??= connectChain({ rpcUrl: chain.rpcUrl, superfluid: chain.superfluid }).catch((err: unknown) => {
      connecting = undefined;
      throw err;
    });
    return connecting;
  };
}

/**
 * A wallet client sending as `account` through the node, which signs: Anvil's development accounts and
 * accounts it impersonates (tests, local development). Production only reads the chain.
 */
export function nodeSignedWalletClient(client: ChainClient, account: Address): WalletClient<Transport, Chain, Account> {
  return createWalletClient({ chain: client.chain, transport: client.transport, account });
}

/** The block `at` names (a number, or a tag such as `finalized` on a real network) and its timestamp. */
export async function blockInstant(client: ChainClient, at: bigint | BlockTag = 'latest'): Promise<BlockInstant> {
  const block = typeof at === 'bigint' ? await client.publicClient.getBlock({ blockNumber: at }) : await client.publicClient.getBlock({ blockTag: at });
  if (block.number === null) throw new Error(`Block ${String(at)} is still pending: read at a mined block`);
  return { number: block.number, timestamp: block.timestamp };
}

/** The chain has no block at or after an instant yet: what happened up to it may still change. */
export class ChainNotReachedError extends Error {
  override readonly name = 'ChainNotReachedError';
}

/**
 * The block at `instant`'s boundary (Unix seconds): the last block with a timestamp at or before it. Every
 * block up to it is at or before the instant, and every later one at or after it, so the FlowUpdated
 * events up to it are exactly those that shape the flow before the instant. `from` is a block known to be
 * at or before the instant (where a stream's books stand); the search between it and the head takes
 * log2 of their distance block reads. Refused until the chain has a block at or after the instant.
 */
export async function boundaryBlock(client: ChainClient, instant: bigint, from: bigint): Promise<BlockInstant> {
  const head = await blockInstant(client, 'latest');
  if (head.timestamp < instant) throw new ChainNotReachedError(`the chain has not reached ${new Date(Number(instant) * 1000).toISOString()} yet (its latest block ${head.number} is at ${new Date(Number(head.timestamp) * 1000).toISOString()})`);
  if (head.timestamp === instant) return head;
  let low = await blockInstant(client, from);
  if (low.timestamp > instant) throw new RangeError(`block ${from} is after ${instant}: it cannot be where the books stand before it`);
  let high = head.number - 1n;
  while (low.number < high) {
    const middle = await blockInstant(client, (low.number + high + 1n) / 2n);
    if (middle.timestamp <= instant) low = middle;
    else high = middle.number - 1n;
  }
  return low;
}

/** Many flows at one instant, in few requests (multicall, deployless: it needs no Multicall3 on the chain). */
export async function readFlows(client: ChainClient, flows: readonly FlowKey[], at: BlockInstant): Promise<FlowInfo[]> {
  if (flows.length === 0) return [];
  const results = await client.publicClient.multicall({
    contracts: flows.map((f) => ({
      address: client.superfluid.cfaV1Forwarder,
      abi: cfaV1ForwarderAbi,
      functionName: 'getFlowInfo' as const,
      args: [f.token, f.sender, f.receiver] as const,
    })),
    allowFailure: false,
    deployless: true,
    batchSize: MULTICALL_CHUNK_BYTES,
    blockNumber: at.number,
  });
  return results.map(([lastUpdated, flowRate, deposit, owedDeposit], i) => ({ ...flows[i]!, lastUpdated, flowRate, deposit, owedDeposit }));
}

/** Whether `token` is a super token of this chain's Superfluid (its host is the configured one). */
export async function isSuperToken(client: ChainClient, token: Address): Promise<boolean> {
  const code = await client.publicClient.getCode({ address: token });
  if (!code || code === '0x') return false;
  const host = await client.publicClient.readContract({ address: token, abi: superTokenAbi, functionName: 'getHost' }).catch(() => undefined);
  return host !== undefined && host.toLowerCase() === client.superfluid.host.toLowerCase();
}

/**
 * Super token balances at one instant. The timestamp is passed explicitly: realtimeBalanceOf computes
 * the balance for the time it is given, and the instant's block timestamp is the one that is exact.
 */
export async function readRealtimeBalances(client: ChainClient, holdings: ReadonlyArray<{ token: Address; account: Address }>, at: BlockInstant): Promise<RealtimeBalance[]> {
  if (holdings.length === 0) return [];
  const results = await client.publicClient.multicall({
    contracts: holdings.map((h) => ({
      address: h.token,
      abi: superTokenAbi,
      functionName: 'realtimeBalanceOf' as const,
      args: [h.account, at.timestamp] as const,
    })),
    allowFailure: false,
    deployless: true,
    batchSize: MULTICALL_CHUNK_BYTES,
    blockNumber: at.number,
  });
  return results.map(([available, deposit, owedDeposit], i) => ({ ...holdings[i]!, available, deposit, owedDeposit }));
}

/**
 * FlowUpdated events of the constant flow agreement between two blocks (both included), filtered by any
 * of token, sender and receiver, in chain order, each with its block's timestamp: the history a flow's
 * accumulated amount is computed from. A filter field may list several values (any of them).
 */
export async function readFlowUpdates(client: ChainClient, filter: { [K in keyof FlowKey]?: FlowKey[K] | FlowKey[K][] }, range: { fromBlock: bigint; toBlock: bigint }): Promise<FlowUpdate[]> {
  const logs = await client.publicClient.getLogs({
    address: client.superfluid.cfaV1,
    event: cfaV1EventsAbi[0],
    args: filter,
    fromBlock: range.fromBlock,
    toBlock: range.toBlock,
    strict: true,
  });
  // Anvil and recent nodes put the block's timestamp on each log; others need the block.
  const timestamps = new Map<bigint, bigint>();
  const timestampOf = async (blockNumber: bigint, given: bigint | null | undefined) => {
    if (given !== undefined && given !== null) return given;
    if (!timestamps.has(blockNumber)) timestamps.set(blockNumber, (await blockInstant(client, blockNumber)).timestamp);
    return timestamps.get(blockNumber)!;
  };
  const updates: FlowUpdate[] = [];
  for (const log of logs) {
    updates.push({
      token: log.args.token,
      sender: log.args.sender,
      receiver: log.args.receiver,
      flowRate: log.args.flowRate,
      blockNumber: log.blockNumber,
      logIndex: log.logIndex,
      timestamp: await timestampOf(log.blockNumber, log.blockTimestamp),
      transactionHash: log.transactionHash,
    });
  }
  return updates;
}

async function requireContract(client: PublicClient, address: Address, variable: string): Promise<void> {
  const code = await client.getCode({ address });
  if (!code || code === '0x') {
    throw new Error(`No contract at ${address} (${variable}) on chain ${await client.getChainId()}: check the address, or that CHAIN_RPC_URL is the network it was deployed to.`);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message) : String(err);
}
