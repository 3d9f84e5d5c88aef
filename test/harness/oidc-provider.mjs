// A real OpenID Provider (the `oidc-provider` package) in a process of its own: the package is ESM
// only, and a test stops and starts it with other keys to rotate them. Its settings come as JSON in
// argv[2]: { port, keys: [private JWK, ...] (the first of the signing alg signs), alg, audience,
// clients: { [clientId]: { secret, claims } } }. It grants client_credentials and signs JWT access
// tokens for the audience, adding each client's claims; it prints `ready <issuer>` once listening.
import http from 'node:http';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2]);
const server = http.createServer();
await new Promise((resolve) => server.listen(settings.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: Object.entries(settings.clients).map(([clientId, c]) => ({
    client_id: clientId,
    client_secret: c.secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  })),
  jwks: { keys: settings.keys },
  cookies: { keys: ['local-test-provider'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:coop-credits:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: settings.audience,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: settings.alg } },
      }),
    },
  },
  extraTokenClaims: (_ctx, token) => settings.clients[token.clientId]?.claims,
});
server.on('request', provider.callback());
process.stdout.write(`ready ${issuer}\n`);
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
