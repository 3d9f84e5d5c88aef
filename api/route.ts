import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from './contracts/zod';
import { clientKey } from '../db/idempotency';
import { unstorablePath } from '../domain/text';
import type { Role } from '../domain/roles';
import { requireRole, type AuthContext } from './auth/authenticate';
import { ErrorBody, IdempotencyKey } from './contracts/common';
import { ApiError } from './errors';
import { carriesCredentials, type RateLimiters } from './rate-limits';

type Schema = z.ZodType | undefined;


/** The body types the API parses (api/app.ts): anything else is refused, not taken as empty. */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Who sent the request, from its Authorization header: verified token and existing principal. */
export type Authenticate = (authorization: string | undefined) => Promise<AuthContext>;
type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<P extends Schema, Q extends Schema, B extends Schema> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  auth: AuthContext;
  idempotencyKey: string | undefined;
  req: Request;
  res: Response;
}

export interface RouteDefinition<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path, e.g. `/v1/cooperatives/:cooperativeId`. */
  path: string;
  summary: string;
  tag: string;
  /** Every route names the roles it allows; there is no default. */
  roles: readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  idempotencyKey?: 'required' | 'optional';
  /** A larger JSON body limit than API_BODY_LIMIT, for a route that takes a batch of records. */
  bodyLimit?: string;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler(ctx: RouteContext<P, Q, B>): Promise<{ status: number; body: unknown }>;
}

export function defineRoute<P extends Schema, Q extends Schema, B extends Schema>(def: RouteDefinition<P, Q, B>): RouteDefinition<P, Q, B> {
  return def;
}

function parse<S extends Schema>(schema: S, value: unknown, where: string): Infer<S> {
  // Before any schema: a string PostgreSQL could not store is refused on every route.
  const unstorable = unstorablePath(value, [where]);
  if (unstorable !== undefined) throw new ApiError('VALIDATION_ERROR', `Invalid ${where}`, [{ path: unstorable, message: 'must not contain NUL characters or invalid Unicode' }]);
  if (!schema) return undefined as Infer<S>;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `Invalid ${where}`,
      result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return result.data as Infer<S>;
}

/** What every route runs before its handler: who is calling, and whether their budget allows it. */
export interface Gate {
  authenticate: Authenticate;
  limiters: RateLimiters;
}

/**
 * Adds the route to the Express router and its contract to the OpenAPI registry, from one definition.
 * The request is authenticated first, then counted against its principal's budget, or against its
 * address when its credentials fail (so a flood of bad tokens is limited too), then handled.
 */
export function mountRoute<P extends Schema, Q extends Schema, B extends Schema>(router: Router, registry: OpenAPIRegistry, gate: Gate, def: RouteDefinition<P, Q, B>): void {
  const identify: RequestHandler = async (req, res, next) => {
    try {
      res.locals.auth = await gate.authenticate(req.headers.authorization);
    } catch (err) {
      res.locals.authError = err;
      // Requests without credentials were counted by address before any route ran.
      return carriesCredentials(req) ? gate.limiters.byIp(req, res, next) : next();
    }
    return gate.limiters.byPrincipal(req, res, next);
  };
  router[def.method](def.path, identify, async (req, res) => {
    if (res.locals.authError) throw res.locals.authError;
    const auth = res.locals.auth as AuthContext;
    requireRole(auth, def.roles);
    const rawKey = req.headers['idempotency-key'];
    if (def.idempotencyKey === 'required' && rawKey === undefined) throw new ApiError('VALIDATION_ERROR', 'The Idempotency-Key header is required');
    // Scoped to the caller and kept apart from the system's own keys (db/idempotency.ts).
    const idempotencyKey = def.idempotencyKey && rawKey !== undefined ? clientKey(auth, parse(IdempotencyKey, rawKey, 'Idempotency-Key')) : undefined;
    const params = parse(def.params as P, req.params, 'params');
    const query = parse(def.query as Q, req.query, 'query');
    // A body in another type was never parsed: taking it as empty would run a route whose fields are all
    // optional on nothing. No body at all (Content-Length: 0, as fetch sends for a bodyless POST) is an empty one.
    const carriesBytes = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (def.body && carriesBytes && req.is(JSON_TYPES) === false) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON: send Content-Type: application/json');
    const body = parse(def.body as B, req.body ?? {}, 'body');
    const result = await def.handler({ params, query, body, auth, idempotencyKey, req, res });
    res.status(result.status).json(result.body);
  });

  registry.registerPath({
    method: def.method,
    path: def.path.replace(/:(\w+)/g, '{$1}'),
    summary: def.summary,
    description: `Roles: ${def.roles.join(', ')}.`,
    tags: [def.tag],
    security: [{ bearerAuth: [] }],
    request: {
      ...(def.params ? { params: def.params as never } : {}),
      ...(def.query ? { query: def.query as never } : {}),
      ...(def.body ? { body: { required: true, content: { 'application/json': { schema: def.body } } } } : {}),
      ...(def.idempotencyKey
        ? { headers: z.object({ 'Idempotency-Key': def.idempotencyKey === 'required' ? IdempotencyKey : IdempotencyKey.optional() }) }
        : {}),
    },
    responses: {
      ...Object.fromEntries(
        Object.entries(def.responses).map(([status, r]) => [status, { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}) }]),
      ),
      default: { description: 'Error', content: { 'application/json': { schema: ErrorBody } } },
    },
  });
}
