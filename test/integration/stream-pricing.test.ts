import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { streamPricer } from '../../activities/stream-pricing';
import { createPool } from '../../db/pool';
import { setManualPrice } from '../../db/token-prices';
import { parsePrice } from '../../domain/prices';
import type { PriceSource, Stream } from '../../domain/streams';
import { connectTestChain, type TestChain } from '../harness/chain';
import { provisionCooperative } from '../harness/ledger';
import { deployMockAggregator, type MockAggregator } from '../harness/mock-aggregator';
import { startPriceServer, type PriceServer } from '../harness/price-server';
import { testConfig } from '../harness/stack';

/**
 * The price chain of a stream: a Chainlink-style aggregator on the chain (a mock whose rounds the test
 * sets), then a configured HTTP source (a local one), then an operator's manual price. Each source that
 * fails, is stale or gives a price that is not positive falls through to the next; when none can, the
 * interval is not priced and every source says why. Spot and time-weighted averages.
 */
describe('stream pricing', () => {
  let pool: Pool;
  let chain: TestChain;
  let server: PriceServer;
  let coop: string;
  let feed: MockAggregator;
  /** Observations are at instants of the test's choosing, far from the chain's own clock: they are data. */
  const t0 = 1_900_000_000n;
  const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

  beforeAll(async () => {
    pool = createPool(testConfig().database.url, { max: 4 });
    [chain, server] = await Promise.all([connectTestChain(), startPriceServer()]);
    coop = await provisionCooperative(pool);
    feed = await deployMockAggregator(chain, 8);
  });
  afterAll(async () => {
    await server?.close();
    await pool?.end();
  });

  const pricer = (httpSources: Record<string, string> = { oracle: server.url }) => streamPricer({ pool, chain: async () => chain.client, httpSources });
  const stream = (priceSources: PriceSource[], priceAveraging: Stream['priceAveraging'] = 'spot', token: `0x${string}` = chain.superToken) =>
    ({ id: randomUUID(), cooperativeId: coop, token, priceSources, priceAveraging }) as Stream;
  const chainlink = (maxAgeSeconds = 3_600): PriceSource => ({ type: 'chainlink', aggregator: feed.address, maxAgeSeconds });
  const oracle = (maxAgeSeconds = 3_600, asset = 'dai'): PriceSource => ({ type: 'http', source: 'oracle', asset, maxAgeSeconds });
  const manual = (maxAgeSeconds = 86_400): PriceSource => ({ type: 'manual', maxAgeSeconds });

  it('takes the aggregator first when its round is fresh, scaling its decimals exactly', async () => {
    await feed.addRound(99_980_000n, t0 - 600n);
    await feed.addRound(100_020_000n, t0 - 120n);
    const priced = await pricer()(stream([chainlink(), oracle(), manual()]), t0 - 86_400n, t0);
    expect(priced).toEqual({
      priced: true,
      price: { numerator: parsePrice('1.0002'), denominator: 1n },
      pricing: { source: 'chainlink', reference: `${feed.address}#2`, averaging: 'spot', price: parsePrice('1.0002'), observedAt: iso(t0 - 120n), ageSeconds: 120n },
    });
    expect(server.requests).toHaveLength(0);
  });

  it('falls through a stale aggregator to the HTTP source, and a failing HTTP source to the manual price', async () => {
    server.observations.set('dai', [{ price: '0.9995', at: Number(t0 + 3_000n) }]);
    const later = t0 + 3_600n;
    const viaHttp = await pricer()(stream([chainlink(3_000), oracle(), manual()]), t0, later);
    expect(viaHttp).toMatchObject({ priced: true, pricing: { source: 'http', reference: 'oracle:dai', price: parsePrice('0.9995'), observedAt: iso(t0 + 3_000n), ageSeconds: 600n } });
    expect(Object.fromEntries(server.requests.at(-1)!)).toEqual({ asset: 'dai', from: later.toString(), to: later.toString() });

    const { price: set } = await setManualPrice(pool, {
      cooperativeId: coop, token: chain.superToken, price: parsePrice('1.01'), observedAt: iso(t0 + 3_500n), reason: 'feed and oracle down', setBy: 'op', idempotencyKey: randomUUID(),
    });
    for (const mode of ['down', 'garbage'] as const) {
      server.mode = mode;
      const viaManual = await pricer()(stream([chainlink(3_000), oracle(), manual()]), t0, later);
      expect(viaManual).toMatchObject({ priced: true, pricing: { source: 'manual', reference: set.id, price: parsePrice('1.01'), ageSeconds: 100n } });
    }
    server.mode = 'ok';
  });

  it('prices nothing when no source can, and says why for each; a source that is not configured is one of them', async () => {
    const outcome = await pricer({})(stream([chainlink(60), oracle(60), manual(60)]), t0, t0 + 7_200n);
    expect(outcome).toEqual({
      priced: false,
      reasons: [
        `chainlink ${feed.address}: the newest price is 7320 s old, over the limit of 60 s`,
        'http oracle:dai: not configured (PRICE_HTTP_SOURCES)',
        'manual: the newest price is 3700 s old, over the limit of 60 s',
      ],
    });
    const empty = await deployMockAggregator(chain, 8);
    const unknownToken = stream([{ type: 'chainlink', aggregator: empty.address, maxAgeSeconds: 60 }, oracle(60, 'nothing'), manual(60)], 'spot', '0x000000000000000000000000000000000000dEaD');
    const none = await pricer()(unknownToken, t0, t0 + 7_200n);
    expect(none).toMatchObject({ priced: false, reasons: [expect.stringMatching(/^chainlink 0x[0-9a-fA-F]{40}: [\s\S]*No data present/), 'http oracle:nothing: the source has no price at or before the end of the interval', 'manual: the source has no price at or before the end of the interval'] });
  });

  it('refuses an answer that is not positive and goes on', async () => {
    const broken = await deployMockAggregator(chain, 8);
    await broken.addRound(-1n, t0);
    server.observations.set('eur', [{ price: '1.08', at: Number(t0) }]);
    const outcome = await pricer()(stream([{ type: 'chainlink', aggregator: broken.address, maxAgeSeconds: 3_600 }, oracle(60, 'eur')]), t0 - 10n, t0 + 10n);
    expect(outcome).toMatchObject({ priced: true, pricing: { source: 'http', reference: 'oracle:eur', price: parsePrice('1.08') } });
  });

  it("averages over the interval by each price's time in force: the aggregator's rounds, or the HTTP source's observations", async () => {
    const twapFeed = await deployMockAggregator(chain, 6);
    await twapFeed.addRound(1_000_000n, t0);
    await twapFeed.addRound(3_000_000n, t0 + 100n);
    await twapFeed.addRound(2_000_000n, t0 + 250n);
    await twapFeed.addRound(9_000_000n, t0 + 400n);
    // [t0 + 50, t0 + 350): 1.00 for 50 s, 3.00 for 150 s, 2.00 for 100 s = 700 / 300.
    const averaged = await pricer()(stream([{ type: 'chainlink', aggregator: twapFeed.address, maxAgeSeconds: 200 }], 'twap'), t0 + 50n, t0 + 350n);
    expect(averaged).toEqual({
      priced: true,
      price: { numerator: parsePrice('700'), denominator: 300n },
      pricing: { source: 'chainlink', reference: `${twapFeed.address}#3`, averaging: 'twap', price: 2_333_333_333_333_333_333n, observedAt: iso(t0 + 250n), ageSeconds: 150n },
    });
    // Each price must stay within the limit for as long as it is used: 3.00 was in force 150 s.
    expect(await pricer()(stream([{ type: 'chainlink', aggregator: twapFeed.address, maxAgeSeconds: 149 }], 'twap'), t0 + 50n, t0 + 350n)).toMatchObject({ priced: false });

    server.observations.set('usdc', [{ price: '1', at: Number(t0) }, { price: '1.5', at: Number(t0 + 100n) }]);
    const viaHttp = await pricer()(stream([oracle(3_600, 'usdc')], 'twap'), t0 + 50n, t0 + 150n);
    expect(viaHttp).toMatchObject({ priced: true, price: { numerator: parsePrice('1') * 50n + parsePrice('1.5') * 50n, denominator: 100n }, pricing: { source: 'http', averaging: 'twap' } });
    expect(Object.fromEntries(server.requests.at(-1)!)).toMatchObject({ from: (t0 + 50n).toString(), to: (t0 + 150n).toString() });
  });
});
