import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoverJwksUri } from '../../clients/oidc';

/** Cooperative admins choose the issuer: in production the API reads discovery documents and key sets at public addresses only. */
describe("an issuer's discovery", () => {
  let server: http.Server;
  let issuer: string;
  let jwksUri = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: jwksUri }));
      if (req.url === '/huge/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, pad: 'x'.repeat(2_000_000) }));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jwksUri = `${issuer}/jwks`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('reads a local issuer where private addresses are allowed (development, tests)', async () => {
    expect(await discoverJwksUri(issuer, { allowHttp: true, allowPrivate: true })).toBe(jwksUri);
  });

  it('refuses an issuer, or a key set, at an internal address where they are not', async () => {
    await expect(discoverJwksUri(issuer, { allowHttp: true, allowPrivate: false })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/internal addresses/) });
    await expect(discoverJwksUri('http://localhost:1', { allowHttp: true, allowPrivate: false })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/internal addresses/) });
  });

  it('refuses a document larger than a discovery document is, and answers that are not 200', async () => {
    await expect(discoverJwksUri(`${issuer}/huge`, { allowHttp: true, allowPrivate: true })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/more than/) });
    await expect(discoverJwksUri(`${issuer}/missing`, { allowHttp: true, allowPrivate: true })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/answered 404/) });
  });
});
