import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Pool } from 'pg';
import type { Config } from '../config/config';
import { countHits, resetHits, uncountHit } from '../db/rate-limits';
import type { AuthContext } from './auth/authenticate';
import { ApiError } from './errors';
import { groupedCalls, type GroupedResult } from './grouped-calls';

/** Keys counted in one statement at most: a burst of many principals takes a few statements, each bounded. */
const KEYS_PER_STATEMENT = 1_000;

type Counted = { totalHits: number; resetTime: Date };

/**
 * express-rate-limit's store on PostgreSQL (db/rate-limits.ts): every API process counts against the
 * same budget, and every hit is counted in the database before its request goes on. Hits are counted in
 * groups (api/grouped-calls.ts): a busy process sends one statement per round trip rather than one per
 * request, and an idle one adds no delay.
 */
class PostgresStore implements Store {
  readonly localKeys = false;
  private readonly count: (key: string) => Promise<GroupedResult<{ hits: number; resetTime: Date }>>;

  constructor(
    private readonly pool: Pool,
    private readonly windowMs: number,
    readonly prefix: string,
  ) {
    this.count = groupedCalls((keys) => countHits(this.pool, keys.map(({ key, callers }) => ({ key, hits: callers })), this.windowMs), KEYS_PER_STATEMENT);
  }

  async increment(key: string): Promise<Counted> {
    const { value, index, callers } = await this.count(this.prefix + key);
    // The key's hits in this group are the last `callers` of its count, in arrival order.
    return { totalHits: value!.hits - callers + 1 + index, resetTime: value!.resetTime };
  }

  decrement(key: string) {
    return uncountHit(this.pool, this.prefix + key, this.windowMs);
  }

  resetKey(key: string) {
    return resetHits(this.pool, this.prefix + key);
  }
}

export interface RateLimiters {
  /** Requests without a valid token (public routes, and bad or missing tokens), per client IP. */
  byIp: RequestHandler;
  /**
   * Webhooks from payment providers, per sending IP, on a budget of their own (a machine's: the service
   * budget): a flood of unauthenticated requests from a shared address must not delay a payment's event.
   */
  webhooks: RequestHandler;
  /** Authenticated requests, per principal, by the principal's role (members: queries and mutations apart). */
  byPrincipal: RequestHandler;
}

const QUERY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The budget a request draws on: its principal's, split by kind for members. */
function budgetOf(limits: Config['rateLimits'], auth: AuthContext, method: string): { kind: string; limit: number } {
  switch (auth.role) {
    case 'member':
      return QUERY_METHODS.has(method) ? { kind: 'query', limit: limits.memberQueries } : { kind: 'mutation', limit: limits.memberMutations };
    case 'coop_admin':
    case 'operator':
      return { kind: 'admin', limit: limits.admin };
    case 'service':
      return { kind: 'service', limit: limits.service };
  }
}

const authOf = (res: { locals: Record<string, unknown> }) => res.locals.auth as AuthContext;

/**
 * Rate limits with express-rate-limit: `429 RATE_LIMITED` in the API's error shape, with `Retry-After`
 * and the standard `RateLimit` / `RateLimit-Policy` headers. A store that cannot count (the database
 * is down) fails the request with 503, never lets it through uncounted.
 */
/** The client's address, as the per-address budgets count it. */
const byAddress = (req: Request) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');

export function rateLimiters(pool: Pool, limits: Config['rateLimits']): RateLimiters {
  const common = {
    windowMs: limits.windowMs,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    // Keys are our own (ip: and principal: prefixes); the library's checks for its defaults do not apply.
    validate: { keyGeneratorIpFallback: false },
  };
  const refuse = (what: string) => (_req: Request, _res: unknown, next: (err: unknown) => void, options: { limit: unknown }) =>
    next(new ApiError('RATE_LIMITED', `Too many requests ${what}: the budget is ${String(options.limit)} per ${limits.windowMs / 1000} s; retry after the Retry-After header`));
  return {
    byIp: rateLimit({
      ...common,
      limit: limits.public,
      store: new PostgresStore(pool, limits.windowMs, 'ip:'),
      keyGenerator: byAddress,
      handler: refuse('from this address'),
    }),
    webhooks: rateLimit({
      ...common,
      limit: limits.service,
      store: new PostgresStore(pool, limits.windowMs, 'webhook:'),
      keyGenerator: byAddress,
      handler: refuse('of webhooks from this address'),
    }),
    byPrincipal: rateLimit({
      ...common,
      store: new PostgresStore(pool, limits.windowMs, 'principal:'),
      limit: (req, res) => budgetOf(limits, authOf(res), req.method).limit,
      keyGenerator: (req, res) => {
        const auth = authOf(res);
        return [auth.role, auth.cooperativeId ?? '-', encodeURIComponent(auth.subject), budgetOf(limits, auth, req.method).kind].join(':');
      },
      handler: refuse('for this principal'),
    }),
  };
}

/** Whether a request carries credentials at all. */
export const carriesCredentials = (req: Request) => req.headers.authorization !== undefined;

const isWebhook = (req: Request) => req.path.startsWith('/v1/webhooks/');

/**
 * Whether a route's gate will count the request (api/route.ts): credentialed requests to the API's
 * routes. Everything else is counted by address before any route runs: webhooks on their own budget,
 * the rest (public documents, requests without credentials or with bad ones) on the public one.
 */
export const countedByRoute = (req: Request) => carriesCredentials(req) && req.path.startsWith('/v1/') && !isWebhook(req);

/** The limiter that counts a request before any route runs (see countedByRoute). */
export const limiterBeforeRoutes = (limiters: RateLimiters, req: Request) => (isWebhook(req) ? limiters.webhooks : limiters.byIp);
