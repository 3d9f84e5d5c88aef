import type { Pool } from 'pg';
import type { ChainConnector } from '../clients/chain';
import { aggregatorObservations, httpObservations } from '../clients/price-sources';
import { manualPriceObservations } from '../db/token-prices';
import { judgePrice, roundedPrice, type Price, type PriceObservation } from '../domain/prices';
import { fromUnixSeconds } from '../domain/sampling-instants';
import type { PriceSource, SamplePricing, Stream } from '../domain/streams';

export interface PricingDependencies {
  pool: Pool;
  chain: ChainConnector;
  /** The configured HTTP price sources, by name (PRICE_HTTP_SOURCES). */
  httpSources: Record<string, string>;
}

/** A price for the interval from the first source that has a usable one, or why none had. */
export type IntervalPrice = { priced: true; price: Price; pricing: SamplePricing } | { priced: false; reasons: string[] };

/** What a source is called in a sample's reference and an alert's reasons. */
function reference(source: PriceSource): string {
  return source.type === 'chainlink' ? source.aggregator : source.type === 'http' ? `${source.source}:${source.asset}` : 'manual';
}

/**
 * Prices a stream's interval [start, end) (Unix seconds) through its sources in order: the first whose
 * observations are usable (fresh enough, positive, covering the interval for a time-weighted average)
 * prices it. A source that fails or is stale falls through to the next; when none is usable the
 * reasons of each are returned, and nothing is priced.
 */
export function streamPricer(deps: PricingDependencies) {
  async function observations(stream: Stream, source: PriceSource, from: bigint, to: bigint): Promise<PriceObservation[]> {
    switch (source.type) {
      case 'chainlink':
        return aggregatorObservations(await deps.chain(), source.aggregator, from, to);
      case 'http':
        return httpObservations(deps.httpSources[source.source]!, source.asset, from, to);
      case 'manual':
        return manualPriceObservations(deps.pool, stream.cooperativeId, stream.token, fromUnixSeconds(from), fromUnixSeconds(to));
    }
  }

  return async function priceInterval(stream: Stream, start: bigint, end: bigint): Promise<IntervalPrice> {
    const reasons: string[] = [];
    // A spot price needs only what is in force at the end.
    const from = stream.priceAveraging === 'spot' ? end : start;
    for (const source of stream.priceSources) {
      const name = source.type === 'manual' ? 'manual' : `${source.type} ${reference(source)}`;
      if (source.type === 'http' && deps.httpSources[source.source] === undefined) {
        reasons.push(`${name}: not configured (PRICE_HTTP_SOURCES)`);
        continue;
      }
      let judged;
      try {
        judged = judgePrice(await observations(stream, source, from, end), { averaging: stream.priceAveraging, start, end, maxAgeSeconds: BigInt(source.maxAgeSeconds) });
      } catch (err) {
        reasons.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!judged.usable) {
        reasons.push(`${name}: ${judged.reason}`);
        continue;
      }
      // The manual price's id or the aggregator's round, where the source names its observations.
      const named = judged.newest.reference ?? reference(source);
      return {
        priced: true,
        price: judged.price,
        pricing: {
          source: source.type, reference: named, averaging: stream.priceAveraging, price: roundedPrice(judged.price),
          observedAt: fromUnixSeconds(judged.newest.at).toISOString(), ageSeconds: judged.ageSeconds,
        },
      };
    }
    return { priced: false, reasons };
  };
}
