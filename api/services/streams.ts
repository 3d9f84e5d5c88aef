import { blockInstant, isSuperToken, readFlows, type ChainClient, type ChainConnector } from '../../clients/chain';
import { registerStream as storeStream, type RegisterStreamRequest } from '../../db/streams';
import { priceSourcesProblem, type SamplingPosition, type Stream } from '../../domain/streams';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

/** The chain, or 503 when it cannot be reached: the register needs to know where the flow stands. */
async function reachChain(chain: ChainConnector): Promise<ChainClient> {
  try {
    return await chain();
  } catch (err) {
    throw new ApiError('SERVICE_UNAVAILABLE', `The chain cannot be reached (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * Registers a stream from where its flow stands on the chain now: the latest block, its timestamp and
 * the flow's rate then, read from Superfluid (whatever the request says, the flow is the chain's).
 * Price sources must be usable: HTTP sources by a name the configuration knows.
 */
export async function registerStream(deps: ApiDependencies & { chain: ChainConnector }, req: RegisterStreamRequest): Promise<{ stream: Stream; replayed: boolean }> {
  const problem = priceSourcesProblem(req.priceSources, new Set(Object.keys(deps.config.streams.httpPriceSources)));
  if (problem) throw new ApiError('VALIDATION_ERROR', 'Invalid body', [{ path: 'body.priceSources', message: problem }]);
  const client = await reachChain(deps.chain);
  if (!(await isSuperToken(client, req.token))) {
    throw new ApiError('VALIDATION_ERROR', 'Invalid body', [{ path: 'body.token', message: "is not a super token of the chain's Superfluid" }]);
  }
  const at = await blockInstant(client, 'latest');
  const [flow] = await readFlows(client, [{ token: req.token, sender: req.sender, receiver: req.receiver }], at);
  const position: SamplingPosition = { at: new Date(Number(at.timestamp) * 1000).toISOString(), flowRate: flow!.flowRate, block: at.number };
  return storeStream(deps.pool, req, position);
}
