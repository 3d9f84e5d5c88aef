import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { AuthContext } from './auth/authenticate';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One structured line per request, when it is answered: request id (the caller's X-Request-Id, or a new
 * one, echoed back), method, path, matched route, status, latency and who called. Headers are not logged:
 * they cost more to write than the request costs to answer, and carry credentials.
 */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, path: req.url?.split('?')[0] }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
    },
    customProps: (req: IncomingMessage, res: ServerResponse) => {
      const auth = (res as Response).locals?.auth as AuthContext | undefined;
      const route = (req as Request).route?.path as string | undefined;
      return {
        ...(route ? { route } : {}),
        ...(auth ? { principal: { role: auth.role, subject: auth.subject, ...(auth.cooperativeId ? { cooperativeId: auth.cooperativeId } : {}) } } : {}),
      };
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
  });
}
