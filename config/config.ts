import path from 'node:path';
import { z } from 'zod';

/**
 * The one place the environment is read. Every variable has a local default so `npm start` works on a
 * fresh machine; production deployments override them (see the README's table). `EnvSchema`'s keys
 * are also what docker-compose.yml may use, which a test checks.
 */

const DEV_SECRET_NOTICE = 'insecure-local-development-secret';

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const secret = z.string().min(32, 'must be at least 32 characters');
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
  .transform((v) => v as `0x${string}`);

/**
 * Superfluid's CFAv1Forwarder has this address on every network Superfluid is deployed to; the embedded
 * chain's test deployment puts it elsewhere and the start command passes that address on.
 */
export const CANONICAL_CFA_V1_FORWARDER: `0x${string}` = '0xcfA132E353cB4E398080B9700609bb008eceB125';

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder for runtime state: embedded PostgreSQL data and the Temporal dev server's SQLite file. */
  STATE_DIR: z.string().min(1).default('.state'),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: port.default(3000),
  /** Largest JSON body the API accepts. */
  API_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/, 'must look like 100kb').default('100kb'),
  // Set in production: /metrics carries per-cooperative figures. Unset, it is open (development, a private network).
  API_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

  /** A workflow bundle built beforehand (for example at image build): the worker loads it instead of bundling at start. */
  WORKER_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /**
   * Whether the worker runs the outbox relay (LISTEN/NOTIFY). Every worker of a deployment does; off
   * only for a worker on a task queue of its own beside one that publishes the same database (tests).
   */
  WORKER_OUTBOX_RELAY: bool.default(true),
  /**
   * Whether the worker creates and updates the Temporal Schedules. They belong to the namespace and start
   * their runs on one task queue, so a worker on a task queue of its own in a namespace that another
   * deployment schedules (tests) leaves them alone rather than taking them over.
   */
  WORKER_SCHEDULES: bool.default(true),
  /** Where the worker serves its Prometheus metrics (Temporal SDK worker metrics); 0 turns them off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),

  /** Unset: the start command runs embedded PostgreSQL on EMBEDDED_PG_PORT. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /**
   * The owner's connection, for migrations only (default: DATABASE_URL). The API and worker connect with
   * DATABASE_URL as `coop_app` or a role that is a member of it: never the owner, never BYPASSRLS.
   */
  DATABASE_OWNER_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Set by migrations as coop_app's login password (embedded default: a local development one). */
  DATABASE_APP_PASSWORD: z.string().min(8).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(20),
  EMBEDDED_PG_PORT: port.default(5433),

  /** Unset: the start command runs the Temporal CLI dev server on TEMPORAL_DEV_PORT. */
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** The task queue workers poll and the API starts workflows on; separate deployments sharing a namespace use their own. */
  TEMPORAL_TASK_QUEUE: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, dot, dash, underscore').default('coop-credits'),
  /** Temporal Cloud API key; implies TLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.default(false),
  /** mTLS client certificate and key (PEM file paths), for Temporal Cloud with certificates. */
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),

  /** Unset: the start command runs stripe-mock on STRIPE_MOCK_PORT and points the client at it. */
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)').optional(),
  /** Where the Stripe client sends API calls (stripe-mock, a proxy); unset with a key means Stripe itself. */
  STRIPE_API_HOST: z.string().min(1).optional(),
  STRIPE_API_PORT: port.optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\w+$/, 'must look like whsec_…').default('whsec_local_development_secret'),
  STRIPE_MOCK_PORT: port.default(12111),

  /** Seals webhook signing secrets at rest (AES-256-GCM, db/secret-box.ts). Changing it makes stored secrets unreadable: rotate every endpoint's secret after. */
  WEBHOOK_SECRETS_KEY: secret.default(`webhooks-${DEV_SECRET_NOTICE}`),
  /** Whether webhooks may go to loopback, private and link-local addresses: unset, yes except in production. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool.optional(),

  /** Federated identity (decision 0023): whether a cooperative's OIDC issuer may be plain http; unset, yes except in production. */
  OIDC_ALLOW_HTTP_ISSUERS: bool.optional(),
  /** Whether an issuer and its key set may be at loopback, private or link-local addresses: unset, yes except in production. */
  OIDC_ALLOW_PRIVATE_ISSUERS: bool.optional(),
  /** Least seconds between two fetches of an issuer's JWKS when a token names a key it does not have (a rotation). */
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),

  /** Unset: the start command runs Anvil on ANVIL_PORT and deploys Superfluid there (decision 0017). */
  CHAIN_RPC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Superfluid's host contract on CHAIN_RPC_URL's network; the agreements are found through it. */
  SUPERFLUID_HOST_ADDRESS: address.optional(),
  SUPERFLUID_CFA_FORWARDER_ADDRESS: address.default(CANONICAL_CFA_V1_FORWARDER),
  /** The embedded Anvil's port; 0 lets the system pick a free one (tests). */
  ANVIL_PORT: z.coerce.number().int().min(0).max(65535).default(8545),

  /**
   * HTTP price sources streams may name, as `name=url` pairs separated by commas. Each answers
   * `GET <url>?asset=<asset>&from=<unix>&to=<unix>` with `{"observations":[{"price":"<USD decimal>","at":<unix>}]}`
   * (the latest observation at or before `from`, then each up to `to`): see the README's streams section.
   */
  PRICE_HTTP_SOURCES: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}=https?:\/\/[^,\s]+(,[A-Za-z0-9_-]{1,64}=https?:\/\/[^,\s]+)*$/, 'must be name=url pairs separated by commas, like coingecko=https://prices.example/usd')
    .optional(),

  /**
   * How far a cooperative account's balance may move away from what its streams booked between two daily
   * stream reconciliations before it is a finding, in percent of what was booked (up to two decimals).
   */
  STREAM_RECONCILIATION_THRESHOLD_PERCENT: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,2})?$/, 'must be a percentage such as 10 or 2.5')
    .refine((v) => Number(v) <= 100, 'must be at most 100')
    .default('10'),

  /** Published domain events (the outbox behind webhooks and the events API) are kept this many days. */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /**
   * Requests allowed per window (the billing seed's budgets): per IP for requests without a valid
   * token, per principal otherwise. Shared by every API process through PostgreSQL.
   */
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  RATE_LIMIT_PUBLIC: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_MEMBER_QUERIES: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_MEMBER_MUTATIONS: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_ADMIN: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_SERVICE: z.coerce.number().int().min(1).default(200),

  /** Cooling-off period between a revenue rule's approval and its activation. */
  REVENUE_RULE_COOLDOWN_SECONDS: z.coerce.number().int().min(1).default(48 * 3600),
  /**
   * Seconds before each automatic retry of a dead-letter item, comma-separated; manual review follows
   * the last. The default is the queue's own (domain/dead-letter.ts; the config test holds them equal).
   */
  DEAD_LETTER_RETRY_DELAYS: z
    .string()
    .regex(/^\d{1,7}(,\d{1,7}){0,9}$/, 'must be 1 to 10 comma-separated whole seconds, like 60,300,1800')
    .refine((v) => v.split(',').every((s) => Number(s) >= 1), 'each delay must be at least 1 second')
    .default('60,300,1800'),

  /** Corrections moving more than this many whole CLOUD need a second operator's approval (four eyes). */
  CORRECTION_APPROVAL_THRESHOLD: z.string().regex(/^\d{1,11}$/, 'must be a whole number of CLOUD, like 100').default('100'),
  /** How long a correction waits for that approval before it expires unapplied (default 7 days). */
  CORRECTION_APPROVAL_WINDOW_SECONDS: z.coerce.number().int().min(1).default(7 * 86_400),

  JWT_ISSUER: z.string().min(1).default('coop-credits'),
  /** Member tokens. The *_PREVIOUS_SECRET of each class is still accepted while secrets rotate. */
  JWT_MEMBER_SECRET: secret.default(`member-${DEV_SECRET_NOTICE}`),
  JWT_MEMBER_PREVIOUS_SECRET: secret.optional(),
  /** Cooperative admin and operator tokens: their own secret and audience. */
  JWT_ADMIN_SECRET: secret.default(`admin-${DEV_SECRET_NOTICE}`),
  JWT_ADMIN_PREVIOUS_SECRET: secret.optional(),
  /** Service-to-service tokens: their own secret and audience. */
  JWT_SERVICE_SECRET: secret.default(`service-${DEV_SECRET_NOTICE}`),
  JWT_SERVICE_PREVIOUS_SECRET: secret.optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  stateDir: string;
  api: { host: string; port: number; bodyLimit: string; metricsToken?: string };
  worker: { metricsPort: number; workflowBundlePath?: string; outboxRelay: boolean; schedules: boolean };
  database: { url: string; ownerUrl: string; appPassword?: string; external: boolean; poolMax: number; embeddedPort: number };
  temporal: {
    address: string;
    external: boolean;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    tls: boolean;
    tlsCertPath?: string;
    tlsKeyPath?: string;
    devPort: number;
    uiPort: number;
  };
  governance: { revenueRuleCooldownMs: number };
  operations: { eventRetentionDays: number };
  /** Passed by whoever starts a workflow that may hand work to the dead-letter queue. */
  deadLetter: { retryDelaysMs: number[] };
  webhooks: { secretsKey: string; allowPrivateTargets: boolean };
  /** Four eyes on corrections: µCLOUD above which a second operator approves, and how long they have. */
  corrections: { approvalThreshold: bigint; approvalWindowMs: number };
  /** Stream accounting: the HTTP price sources streams may name (by name), and the stream reconciliation's drift threshold. */
  streams: { httpPriceSources: Record<string, string>; driftThresholdBps: number };
  rateLimits: { windowMs: number; public: number; memberQueries: number; memberMutations: number; admin: number; service: number };
  stripe: {
    secretKey: string;
    /** True when Stripe (or a stripe-mock someone else runs) is configured; false starts a local stripe-mock. */
    external: boolean;
    host: string;
    port: number;
    protocol: 'http' | 'https';
    webhookSecret: string;
    mockPort: number;
  };
  /**
   * CHAIN_RPC_URL with its Superfluid addresses, or (unset) the embedded Anvil on ANVIL_PORT, whose
   * Superfluid addresses come from its deployment: the start command passes them on to the API and worker.
   */
  chain: { external: true; rpcUrl: string; superfluid: SuperfluidSettings } | { external: false; anvilPort: number };
  jwt: {
    issuer: string;
    member: string[];
    admin: string[];
    service: string[];
  };
  /** Cooperatives' own OIDC issuers (decision 0023). */
  oidc: { allowHttpIssuers: boolean; allowPrivateIssuers: boolean; jwksCooldownMs: number };
}

/** Where Superfluid is on a chain: the host and the CFAv1Forwarder (the agreement is found through the host). */
export interface SuperfluidSettings {
  host: `0x${string}`;
  cfaV1Forwarder: `0x${string}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix these environment variables (see the README's table) and start again.`);
    this.name = 'ConfigError';
  }
}

/** The embedded database, as its owner (migrations) or as the application role. */
export function embeddedDatabaseUrl(port: number, as: 'owner' | 'app' = 'app'): string {
  return as === 'owner' ? `postgres://postgres:postgres@127.0.0.1:${port}/coop_credits` : `postgres://coop_app:${EMBEDDED_APP_PASSWORD}@127.0.0.1:${port}/coop_credits`;
}

const EMBEDDED_APP_PASSWORD = 'coop_app-local-development';

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings (e.g. `FOO=` in a compose file) mean "not set".
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    for (const name of ['JWT_MEMBER_SECRET', 'JWT_ADMIN_SECRET', 'JWT_SERVICE_SECRET', 'WEBHOOK_SECRETS_KEY'] as const) {
      if (e[name].includes(DEV_SECRET_NOTICE)) problems.push(`${name}: must be set in production`);
    }
  }
  if (new Set([e.JWT_MEMBER_SECRET, e.JWT_ADMIN_SECRET, e.JWT_SERVICE_SECRET]).size !== 3) {
    problems.push('JWT_MEMBER_SECRET, JWT_ADMIN_SECRET, JWT_SERVICE_SECRET: must all differ');
  }
  if (e.NODE_ENV === 'production' && (!e.STRIPE_SECRET_KEY || e.STRIPE_WEBHOOK_SECRET === 'whsec_local_development_secret')) {
    problems.push('STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET: must be set in production');
  }
  if (e.CHAIN_RPC_URL !== undefined && e.SUPERFLUID_HOST_ADDRESS === undefined) {
    problems.push('SUPERFLUID_HOST_ADDRESS: must be set with CHAIN_RPC_URL (the Superfluid host contract of that network)');
  }
  if (e.CHAIN_RPC_URL === undefined && e.SUPERFLUID_HOST_ADDRESS !== undefined) {
    problems.push('SUPERFLUID_HOST_ADDRESS: set CHAIN_RPC_URL too, or neither for the embedded chain');
  }
  if (e.NODE_ENV === 'production' && e.CHAIN_RPC_URL === undefined) {
    problems.push('CHAIN_RPC_URL, SUPERFLUID_HOST_ADDRESS: must be set in production');
  }
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    problems.push('TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const secrets = (current: string, previous?: string) => (previous ? [current, previous] : [current]);
  // Neither a key nor a host: the start command runs stripe-mock and the client talks to it.
  const localStripeMock = e.STRIPE_SECRET_KEY === undefined && e.STRIPE_API_HOST === undefined;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    stateDir: path.resolve(e.STATE_DIR),
    api: { host: e.API_HOST, port: e.API_PORT, bodyLimit: e.API_BODY_LIMIT, ...(e.API_METRICS_TOKEN ? { metricsToken: e.API_METRICS_TOKEN } : {}) },
    worker: { metricsPort: e.WORKER_METRICS_PORT, workflowBundlePath: e.WORKER_WORKFLOW_BUNDLE, outboxRelay: e.WORKER_OUTBOX_RELAY, schedules: e.WORKER_SCHEDULES },
    database: {
      url: e.DATABASE_URL ?? embeddedDatabaseUrl(e.EMBEDDED_PG_PORT),
      ownerUrl: e.DATABASE_OWNER_URL ?? e.DATABASE_URL ?? embeddedDatabaseUrl(e.EMBEDDED_PG_PORT, 'owner'),
      appPassword: e.DATABASE_APP_PASSWORD ?? (e.DATABASE_URL === undefined ? EMBEDDED_APP_PASSWORD : undefined),
      external: e.DATABASE_URL !== undefined,
      poolMax: e.DATABASE_POOL_MAX,
      embeddedPort: e.EMBEDDED_PG_PORT,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_DEV_PORT}`,
      external: e.TEMPORAL_ADDRESS !== undefined,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || e.TEMPORAL_API_KEY !== undefined || e.TEMPORAL_TLS_CERT_PATH !== undefined,
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    governance: { revenueRuleCooldownMs: e.REVENUE_RULE_COOLDOWN_SECONDS * 1000 },
    operations: { eventRetentionDays: e.EVENT_RETENTION_DAYS },
    deadLetter: { retryDelaysMs: e.DEAD_LETTER_RETRY_DELAYS.split(',').map((s) => Number(s) * 1000) },
    streams: {
      httpPriceSources: Object.fromEntries((e.PRICE_HTTP_SOURCES ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
      driftThresholdBps: Math.round(Number(e.STREAM_RECONCILIATION_THRESHOLD_PERCENT) * 100),
    },
    webhooks: { secretsKey: e.WEBHOOK_SECRETS_KEY, allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? e.NODE_ENV !== 'production' },
    corrections: { approvalThreshold: BigInt(e.CORRECTION_APPROVAL_THRESHOLD) * 1_000_000n, approvalWindowMs: e.CORRECTION_APPROVAL_WINDOW_SECONDS * 1000 },
    rateLimits: {
      windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      public: e.RATE_LIMIT_PUBLIC,
      memberQueries: e.RATE_LIMIT_MEMBER_QUERIES,
      memberMutations: e.RATE_LIMIT_MEMBER_MUTATIONS,
      admin: e.RATE_LIMIT_ADMIN,
      service: e.RATE_LIMIT_SERVICE,
    },
    stripe: {
      // stripe-mock accepts any key that looks like a test key: sk_test_ and letters or digits.
      secretKey: e.STRIPE_SECRET_KEY ?? 'sk_test_localstripemock',
      external: !localStripeMock,
      host: e.STRIPE_API_HOST ?? (localStripeMock ? '127.0.0.1' : 'api.stripe.com'),
      port: e.STRIPE_API_PORT ?? (localStripeMock ? e.STRIPE_MOCK_PORT : 443),
      protocol: e.STRIPE_API_PROTOCOL ?? (localStripeMock ? 'http' : 'https'),
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      mockPort: e.STRIPE_MOCK_PORT,
    },
    chain:
      e.CHAIN_RPC_URL !== undefined && e.SUPERFLUID_HOST_ADDRESS !== undefined
        ? { external: true, rpcUrl: e.CHAIN_RPC_URL, superfluid: { host: e.SUPERFLUID_HOST_ADDRESS, cfaV1Forwarder: e.SUPERFLUID_CFA_FORWARDER_ADDRESS } }
        : { external: false, anvilPort: e.ANVIL_PORT },
    jwt: {
      issuer: e.JWT_ISSUER,
      member: secrets(e.JWT_MEMBER_SECRET, e.JWT_MEMBER_PREVIOUS_SECRET),
      admin: secrets(e.JWT_ADMIN_SECRET, e.JWT_ADMIN_PREVIOUS_SECRET),
      service: secrets(e.JWT_SERVICE_SECRET, e.JWT_SERVICE_PREVIOUS_SECRET),
    },
    oidc: {
      allowHttpIssuers: e.OIDC_ALLOW_HTTP_ISSUERS ?? e.NODE_ENV !== 'production',
      allowPrivateIssuers: e.OIDC_ALLOW_PRIVATE_ISSUERS ?? e.NODE_ENV !== 'production',
      jwksCooldownMs: e.OIDC_JWKS_COOLDOWN_SECONDS * 1000,
    },
  };
}
