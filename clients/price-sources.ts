import { parseAbi, type Address } from 'viem';
import { parsePrice, scaleAnswer, type PriceObservation } from '../domain/prices';
import type { ChainClient } from './chain';

/**
 * Reading prices from their sources, as observations (domain/prices.ts judges them). Each read asks for
 * what can price [from, to]: the observation in force at `from` and every later one up to `to`.
 */

/** Chainlink's AggregatorV3Interface, the part a consumer reads. */
export const aggregatorV3Abi = parseAbi([
  'function decimals() view returns (uint8)',
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
  'function getRoundData(uint80 roundId) view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
]);

/** How many rounds back a read may walk: a feed updating every minute covers a day in 1,440. */
const MAX_ROUNDS_BACK = 2_000;

/**
 * An aggregator's rounds from the latest back to the first updated at or before `from`. Reads the
 * current state and walks round ids down, so it needs no archive node. A round id that does not exist
 * (the start of the feed, or of its phase: Chainlink's ids carry the phase in their top bits) ends the
 * walk; so does a round that was never answered (updatedAt 0).
 */
export async function aggregatorObservations(client: ChainClient, aggregator: Address, from: bigint, to: bigint): Promise<PriceObservation[]> {
  const read = { address: aggregator, abi: aggregatorV3Abi } as const;
  const [decimals, latest] = await Promise.all([
    client.publicClient.readContract({ ...read, functionName: 'decimals' }),
    client.publicClient.readContract({ ...read, functionName: 'latestRoundData' }),
  ]);
  const observations: PriceObservation[] = [];
  let round: readonly [bigint, bigint, bigint, bigint, bigint] | undefined = latest;
  for (let steps = 0; round && round[3] > 0n && steps < MAX_ROUNDS_BACK; steps++) {
    const [roundId, answer, , updatedAt]: readonly [bigint, bigint, bigint, bigint, bigint] = round;
    if (updatedAt <= to) observations.push({ price: answer > 0n ? scaleAnswer(answer, decimals) : answer, at: updatedAt, reference: `${aggregator}#${roundId}` });
    if (updatedAt <= from || roundId === 0n) break;
    round = await client.publicClient.readContract({ ...read, functionName: 'getRoundData', args: [roundId - 1n] }).catch(() => undefined);
  }
  return observations.reverse();
}

const HTTP_TIMEOUT_MS = 5_000;

/**
 * An HTTP source's observations: `GET <url>?asset=<asset>&from=<unix>&to=<unix>` answered with
 * `{"observations":[{"price":"<USD decimal>","at":<unix seconds>}]}`. Anything else (a status other than
 * 200, a body of another shape, a price that is not a positive decimal) fails with what was wrong.
 */
export async function httpObservations(url: string, asset: string, from: bigint, to: bigint): Promise<PriceObservation[]> {
  const target = new URL(url);
  target.searchParams.set('asset', asset);
  target.searchParams.set('from', from.toString());
  target.searchParams.set('to', to.toString());
  const res = await fetch(target, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`it answered ${res.status}`);
  const body = (await res.json()) as { observations?: unknown };
  if (!Array.isArray(body.observations)) throw new Error('its answer has no observations list');
  return body.observations.map((o: { price?: unknown; at?: unknown }) => {
    if (typeof o.price !== 'string' || typeof o.at !== 'number' || !Number.isSafeInteger(o.at) || o.at < 0) throw new Error('an observation is not {"price":"<decimal>","at":<unix seconds>}');
    return { price: parsePrice(o.price), at: BigInt(o.at) };
  });
}
