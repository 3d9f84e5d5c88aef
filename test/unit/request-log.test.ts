import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { requestLogger } from '../../api/request-log';

/** The request log: one structured line per answered request, with who and what, never the headers. */
it('logs request id, route, status, latency and principal, and no headers', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  const app = express();
  app.use(requestLogger(pino({ level: 'info' }, sink)));
  app.get('/v1/things/:id', (req, res) => {
    res.locals.auth = { role: 'member', subject: 'm-1', cooperativeId: 'c-1' };
    if (req.params.id === 'odd') req.log.warn({ thing: 'odd' }, 'an odd thing');
    res.status(req.params.id === 'broken' ? 500 : 200).json({ ok: true });
  });
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const given = await fetch(`${base}/v1/things/42?cursor=abc`, { headers: { authorization: 'Bearer secret.token.here', 'x-request-id': 'req-from-caller' } });
    expect(given.headers.get('x-request-id')).toBe('req-from-caller');
    const made = await fetch(`${base}/v1/things/broken`, { headers: { 'x-request-id': 'not allowed spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await fetch(`${base}/nowhere`);
    await fetch(`${base}/healthz`);
    await fetch(`${base}/v1/things/odd`, { headers: { 'x-request-id': 'req-odd' } });
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    server.close();
  }
  expect(lines).toHaveLength(5);
  const [ok, failed, missing, warned, odd] = lines;
  expect(ok).toMatchObject({ level: 30, reqId: 'req-from-caller', req: { method: 'GET', path: '/v1/things/42' }, res: { status: 200 }, route: '/v1/things/:id', principal: { role: 'member', subject: 'm-1', cooperativeId: 'c-1' } });
  expect(typeof ok!.responseTime).toBe('number');
  expect(failed).toMatchObject({ level: 50, res: { status: 500 } });
  expect(missing).toMatchObject({ level: 30, res: { status: 404 } });
  expect(missing!.principal).toBeUndefined();
  // A route's own line carries the request id; probes are not logged.
  expect(warned).toMatchObject({ level: 40, reqId: 'req-odd', thing: 'odd', msg: 'an odd thing' });
  expect(odd).toMatchObject({ level: 30, reqId: 'req-odd', res: { status: 200 } });
  expect(lines.some((l) => (l.req as { path?: string } | undefined)?.path === '/healthz')).toBe(false);
  const text = JSON.stringify(lines);
  expect(text).not.toMatch(/secret\.token|authorization|headers|cursor=abc/i);
});
