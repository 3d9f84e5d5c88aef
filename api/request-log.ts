import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AuthContext } from './auth/authenticate';

declare module 'http' {
  interface IncomingMessage {
    /** The request id, as echoed in X-Request-Id and error bodies. */
    id: string;
    /** The request's logger: every line it writes carries the request id. */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes, polled every few seconds, would drown the requests worth reading. */
const UNLOGGED = new Set(['/healthz', '/metrics']);

/**
 * One structured line per request, when it is answered (or abandoned by its caller): request id (the
 * caller's X-Request-Id, or a new one, echoed back), method, path, matched route, status, latency and who
 * called. Headers are not logged: they cost more to write than the request costs to answer, and carry
 * credentials. The request's own logger (`req.log`, for a route's warnings) is made only when used: most
 * requests never write anything but their line, and a child logger per request cost more than the line.
 */
export function requestLogger(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    req.id = reqId;
    res.setHeader('X-Request-Id', reqId);
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, enumerable: false, get: () => (child ??= logger.child({ reqId })) });
    const path = req.url.split('?')[0]!;
    if (UNLOGGED.has(path)) return next();

    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      const status = res.statusCode;
      const auth = res.locals.auth as AuthContext | undefined;
      const route = (req.route as { path?: string } | undefined)?.path;
      const line = {
        reqId,
        req: { method: req.method, path },
        res: { status },
        ...(route ? { route } : {}),
        ...(auth ? { principal: { role: auth.role, subject: auth.subject, ...(auth.cooperativeId ? { cooperativeId: auth.cooperativeId } : {}) } } : {}),
        responseTime: Math.round(performance.now() - started),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (status >= 500) logger.error(line, 'request failed');
      else logger.info(line, res.writableFinished ? 'request completed' : 'request aborted');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
