import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP price source speaking the contract clients/price-sources.ts reads
 * (`GET /prices?asset=&from=&to=` → `{"observations":[{"price","at"}]}`): the observations of each asset
 * are the test's to set, and so is whether the source answers at all.
 */
export interface PriceServer {
  /** The URL to configure (PRICE_HTTP_SOURCES=<name>=<url>). */
  url: string;
  /** Observations by asset: a USD decimal string and the Unix second it was observed. */
  observations: Map<string, Array<{ price: string; at: number }>>;
  /** `ok` answers; `down` answers 503; `garbage` answers 200 with a body of another shape. */
  mode: 'ok' | 'down' | 'garbage';
  /** The query of every request, in order. */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startPriceServer(): Promise<PriceServer> {
  const state: Omit<PriceServer, 'url' | 'close'> = { observations: new Map(), mode: 'ok', requests: [] };
  const server = http.createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    state.requests.push(query);
    if (state.mode === 'down') return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    if (state.mode === 'garbage') return void res.end(JSON.stringify({ price: 'soon' }));
    const [from, to] = [Number(query.get('from')), Number(query.get('to'))];
    const all = [...(state.observations.get(query.get('asset') ?? '') ?? [])].sort((a, b) => a.at - b.at);
    const inForce = all.filter((o) => o.at <= from).slice(-1);
    res.end(JSON.stringify({ observations: [...inForce, ...all.filter((o) => o.at > from && o.at <= to)] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prices`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
