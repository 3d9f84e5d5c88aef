import { CANONICAL_CFA_V1_FORWARDER, ConfigError, loadConfig } from '../../config/config';
import { DEFAULT_CORRECTION_APPROVAL_WINDOW_MS } from '../../domain/corrections';
import { DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS } from '../../domain/dead-letter';

describe('loadConfig', () => {
  it('runs on local defaults with embedded PostgreSQL and the Temporal dev server', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(3000);
    // The application logs in as coop_app; migrations run as the owner.
    expect(config.database).toMatchObject({
      external: false,
      url: 'postgres://coop_app:coop_app-local-development@127.0.0.1:5433/coop_credits',
      ownerUrl: 'postgres://postgres:postgres@127.0.0.1:5433/coop_credits',
      appPassword: 'coop_app-local-development',
    });
    const external = loadConfig({ DATABASE_URL: 'postgres://api:x@db:5432/c', DATABASE_OWNER_URL: 'postgres://owner:y@db:5432/c' });
    expect(external.database).toMatchObject({ external: true, url: 'postgres://api:x@db:5432/c', ownerUrl: 'postgres://owner:y@db:5432/c' });
    expect(external.database.appPassword).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/c' }).database.ownerUrl).toBe('postgres://u:p@db:5432/c');
    expect(config.temporal).toMatchObject({ external: false, address: '127.0.0.1:7233', namespace: 'default', tls: false, uiPort: 8233 });
  });

  it('treats DATABASE_URL and TEMPORAL_ADDRESS as external components', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/x', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key' });
    expect(config.database).toMatchObject({ external: true, url: 'postgresql://u:p@db:5432/x' });
    expect(config.temporal).toMatchObject({ external: true, address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'key' });
  });

  it('runs the embedded chain unless CHAIN_RPC_URL names one, which needs its Superfluid host', () => {
    expect(loadConfig({}).chain).toEqual({ external: false, anvilPort: 8545 });
    const host = '0x4E583d9390082B65Bef884b629DFA426114CED6d';
    expect(loadConfig({ CHAIN_RPC_URL: 'https://rpc.example.org', SUPERFLUID_HOST_ADDRESS: host }).chain).toEqual({
      external: true,
      rpcUrl: 'https://rpc.example.org',
      superfluid: { host, cfaV1Forwarder: CANONICAL_CFA_V1_FORWARDER },
    });
    const forwarder = '0x2CDd45c5182602a36d391F7F16DD9f8386C3bD8D';
    expect(loadConfig({ CHAIN_RPC_URL: 'http://node:8545', SUPERFLUID_HOST_ADDRESS: host, SUPERFLUID_CFA_FORWARDER_ADDRESS: forwarder }).chain).toMatchObject({ superfluid: { cfaV1Forwarder: forwarder } });
    expect(() => loadConfig({ CHAIN_RPC_URL: 'http://node:8545' })).toThrow(/SUPERFLUID_HOST_ADDRESS: must be set with CHAIN_RPC_URL/);
    expect(() => loadConfig({ SUPERFLUID_HOST_ADDRESS: host })).toThrow(/SUPERFLUID_HOST_ADDRESS: set CHAIN_RPC_URL too/);
    expect(() => loadConfig({ CHAIN_RPC_URL: 'ws://node:8546', SUPERFLUID_HOST_ADDRESS: host })).toThrow(/CHAIN_RPC_URL/);
    expect(() => loadConfig({ CHAIN_RPC_URL: 'http://node:8545', SUPERFLUID_HOST_ADDRESS: '0x1234' })).toThrow(/SUPERFLUID_HOST_ADDRESS: must be a 0x-prefixed 20-byte hex address/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CHAIN_RPC_URL, SUPERFLUID_HOST_ADDRESS: must be set in production/);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ API_PORT: 'seventy', DATABASE_URL: 'mysql://x', TEMPORAL_ADDRESS: 'no-port', JWT_ADMIN_SECRET: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['API_PORT', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'JWT_ADMIN_SECRET']) expect(problems).toContain(name);
  });

  it('refuses development secrets in production and equal secrets anywhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_MEMBER_SECRET: must be set in production/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WEBHOOK_SECRETS_KEY: must be set in production/);
    const same = 's'.repeat(40);
    expect(() => loadConfig({ JWT_MEMBER_SECRET: same, JWT_ADMIN_SECRET: same, JWT_SERVICE_SECRET: 't'.repeat(40) })).toThrow(/must all differ/);
  });

  it('lets webhooks reach private addresses outside production only, unless told', () => {
    expect(loadConfig({}).webhooks.allowPrivateTargets).toBe(true);
    const production = { NODE_ENV: 'production', JWT_MEMBER_SECRET: 'm'.repeat(32), JWT_ADMIN_SECRET: 'a'.repeat(32), JWT_SERVICE_SECRET: 's'.repeat(32), WEBHOOK_SECRETS_KEY: 'w'.repeat(32), STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_live', CHAIN_RPC_URL: 'https://rpc.example.org', SUPERFLUID_HOST_ADDRESS: '0x4E583d9390082B65Bef884b629DFA426114CED6d' };
    expect(loadConfig(production).webhooks).toEqual({ secretsKey: 'w'.repeat(32), allowPrivateTargets: false });
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).webhooks.allowPrivateTargets).toBe(true);
  });

  it('keeps a previous secret per token class for rotation', () => {
    const config = loadConfig({ JWT_ADMIN_SECRET: 'a'.repeat(32), JWT_ADMIN_PREVIOUS_SECRET: 'b'.repeat(32) });
    expect(config.jwt.admin).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(config.jwt.member).toHaveLength(1);
  });

  it("defaults the dead-letter retry delays to the queue's own, and reads shorter ones as whole seconds", () => {
    expect(loadConfig({}).deadLetter.retryDelaysMs).toEqual([...DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS]);
    expect(loadConfig({ DEAD_LETTER_RETRY_DELAYS: '1,2,3' }).deadLetter.retryDelaysMs).toEqual([1000, 2000, 3000]);
    for (const bad of ['0,1', '1.5', '60,,300', 'soon', '1,2,3,4,5,6,7,8,9,10,11']) expect(() => loadConfig({ DEAD_LETTER_RETRY_DELAYS: bad })).toThrow(/DEAD_LETTER_RETRY_DELAYS/);
  });

  it('asks a second operator for corrections above 100 CLOUD by default, within the 7-day window corrections keep', () => {
    expect(loadConfig({}).corrections).toEqual({ approvalThreshold: 100_000_000n, approvalWindowMs: DEFAULT_CORRECTION_APPROVAL_WINDOW_MS });
    expect(loadConfig({ CORRECTION_APPROVAL_THRESHOLD: '0', CORRECTION_APPROVAL_WINDOW_SECONDS: '60' }).corrections).toEqual({ approvalThreshold: 0n, approvalWindowMs: 60_000 });
    for (const bad of ['-1', '1.5', '1e3', 'many']) expect(() => loadConfig({ CORRECTION_APPROVAL_THRESHOLD: bad })).toThrow(/CORRECTION_APPROVAL_THRESHOLD/);
  });
});
