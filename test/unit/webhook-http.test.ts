import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../clients/webhook-http';

/** The webhook POST: the status it got, and in production no way into the network beside the worker. */
describe('postWebhook', () => {
  let server: http.Server;
  let port: number;
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(req.url === '/moved' ? 302 : 202, req.url === '/moved' ? { location: '/elsewhere' } : {}).end('ignored');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = (url: string, allowPrivateTargets: boolean) => postWebhook({ url, headers: { 'Coop-Event-Id': 'e1' }, body: '{"a":1}', timeoutMs: 2_000, allowPrivateTargets });

  it('POSTs the JSON body with the given headers and answers with the status, following no redirect', async () => {
    expect(await post(`http://127.0.0.1:${port}/hook`, true)).toBe(202);
    expect(seen.at(-1)).toMatchObject({ body: '{"a":1}', headers: { 'content-type': 'application/json', 'coop-event-id': 'e1' } });
    expect(await post(`http://127.0.0.1:${port}/moved`, true)).toBe(302);
  });

  it('refuses loopback, private and link-local targets unless allowed, by address or by a name that resolves there', async () => {
    for (const url of [`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`, 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]:9/x', 'http://[::ffff:127.0.0.1]:9/x', 'http://[fd00::1]/x']) {
      await expect(post(url, false)).rejects.toThrow(/internal addresses/);
    }
  });

  it('fails when nothing answers in time', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      await expect(postWebhook({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, headers: {}, body: '{}', timeoutMs: 200, allowPrivateTargets: true })).rejects.toThrow();
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
