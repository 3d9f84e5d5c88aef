import type { AddressInfo } from 'node:net';
import express from 'express';
import { errorHandler } from '../../api/errors';
import { createMetrics } from '../../api/metrics';

/** /metrics carries per-cooperative figures: with API_METRICS_TOKEN set, only a scraper presenting it reads them. */
describe('the metrics endpoint', () => {
  async function serve(token?: string) {
    const app = express();
    app.get('/metrics', createMetrics(undefined, token).endpoint);
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    return { get: (authorization?: string) => fetch(url, authorization ? { headers: { authorization } } : {}), close: () => new Promise((r) => server.close(r)) };
  }

  it('answers a scraper with its token, and refuses others with 401 in the error shape', async () => {
    const metrics = await serve('a-long-enough-scrape-token');
    try {
      const ok = await metrics.get('Bearer a-long-enough-scrape-token');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^process_cpu_user_seconds_total/m);
      for (const wrong of [undefined, 'Bearer a-long-enough-scrape-tokeN', 'a-long-enough-scrape-token', 'Bearer ']) {
        const res = await metrics.get(wrong);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
      }
    } finally {
      await metrics.close();
    }
  });

  it('is open when no token is configured', async () => {
    const metrics = await serve();
    try {
      expect((await metrics.get()).status).toBe(200);
    } finally {
      await metrics.close();
    }
  });
});
