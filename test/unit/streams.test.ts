import { priceSourcesProblem, streamAccountProblem, STREAM_ACCOUNTS, STREAM_ACCOUNTS_BY_DIRECTION, STREAM_DIRECTIONS } from '../../domain/streams';

describe('stream register rules', () => {
  it('lets each direction post only to its own accounts, and every account belongs to one direction', () => {
    expect(streamAccountProblem('inbound', 'revenue')).toBeUndefined();
    expect(streamAccountProblem('outbound', 'member_compensation')).toBeUndefined();
    expect(streamAccountProblem('inbound', 'expense')).toBe('an inbound stream posts to revenue');
    expect(streamAccountProblem('outbound', 'revenue')).toBe('an outbound stream posts to expense, member_compensation, distribution');
    expect(STREAM_DIRECTIONS.flatMap((d) => STREAM_ACCOUNTS_BY_DIRECTION[d]).sort()).toEqual([...STREAM_ACCOUNTS].sort());
  });

  it('needs price sources that can work: at least one, HTTP ones configured, none twice', () => {
    const http = new Set(['oracle']);
    const aggregator = '0x52908400098527886E0F7030069857D2E4169EE7';
    expect(priceSourcesProblem([{ type: 'chainlink', aggregator, maxAgeSeconds: 60 }, { type: 'http', source: 'oracle', asset: 'dai', maxAgeSeconds: 60 }, { type: 'manual', maxAgeSeconds: 60 }], http)).toBeUndefined();
    expect(priceSourcesProblem([], http)).toBe('at least one price source is needed');
    expect(priceSourcesProblem([{ type: 'http', source: 'other', asset: 'dai', maxAgeSeconds: 60 }], http)).toMatch(/no HTTP price source 'other' is configured \(PRICE_HTTP_SOURCES has oracle\)/);
    expect(priceSourcesProblem([{ type: 'chainlink', aggregator, maxAgeSeconds: 60 }, { type: 'chainlink', aggregator: aggregator.toLowerCase() as `0x${string}`, maxAgeSeconds: 5 }], http)).toBe('a price source is listed twice');
    // Two assets of one HTTP source are two sources.
    expect(priceSourcesProblem([{ type: 'http', source: 'oracle', asset: 'dai', maxAgeSeconds: 60 }, { type: 'http', source: 'oracle', asset: 'usdc', maxAgeSeconds: 60 }], http)).toBeUndefined();
  });
});
