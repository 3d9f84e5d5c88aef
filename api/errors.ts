import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BusinessError, type ErrorCode } from '../domain/errors';
import { MoneyFormatError } from '../domain/money';

/** The HTTP status of each error code (the codes themselves are listed once, in domain/errors.ts). */
const STATUS: Record<ErrorCode, number> = {
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INSUFFICIENT_FUNDS: 422,
  IDEMPOTENCY_MISMATCH: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  // The payment provider refused what we asked of it: nothing the client's retry changes.
  PAYMENT_PROVIDER_ERROR: 502,
  INTERNAL: 500,
};

/** The HTTP status an error code is answered with (a batch reports it per record). */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export interface ErrorDetail {
  path?: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[code];
  }
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

/** Maps any error to the JSON error body; never leaks a stack trace or an internal message. */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const error = toApiError(err);
  if (error.code === 'INTERNAL') req.log?.error({ err }, 'unhandled error');
  else if (error.code === 'SERVICE_UNAVAILABLE') req.log?.warn({ err }, 'backing service unavailable');
  if (error.code === 'SERVICE_UNAVAILABLE') res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(error.status).json({
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), requestId: req.id },
  });
};

/** How long a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = 2;

/**
 * PostgreSQL not there or overloaded right now: connection class 08, shutdown (57P01-3), insufficient
 * resources (class 53: too many connections, out of memory, disk full), a lock or statement timeout
 * (55P03, 57014). Socket-level failures too. Retryable: 503 with Retry-After, never 500.
 */
const DB_UNAVAILABLE = /^(08|53|57P0[123]|57014|55P03)/;
const SOCKET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/;
/** PostgreSQL's datetime_field_overflow, invalid_datetime_format and invalid_time_zone_displacement_value (offsets beyond ±15:59). */
const DATETIME_OUT_OF_RANGE = new Set(['22008', '22007', '22009']);
/** gRPC status codes from Temporal that mean "not now": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const GRPC_UNAVAILABLE = new Set([4, 8, 14]);

/** Whether an error means a backing service (PostgreSQL, Temporal) is unavailable: retryable, never the client's fault or ours. */
export function isUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && (DB_UNAVAILABLE.test(e.code) || SOCKET_UNAVAILABLE.has(e.code))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    if (e.name === 'ServiceError' && typeof (e.cause as { code?: unknown } | undefined)?.code === 'number' && GRPC_UNAVAILABLE.has((e.cause as { code: number }).code)) return true;
    if (typeof e.code === 'number' && GRPC_UNAVAILABLE.has(e.code) && 'details' in e) return true;
  }
  return false;
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BusinessError) return new ApiError(err.code, err.message);
  if (err instanceof MoneyFormatError) return new ApiError('VALIDATION_ERROR', err.message);
  // body-parser's errors carry a `type`; map the ones a client can cause.
  const e = err as { type?: string; status?: unknown; statusCode?: unknown } | undefined;
  if (e?.type === 'entity.parse.failed') return new ApiError('VALIDATION_ERROR', 'Request body is not valid JSON');
  if (e?.type === 'entity.too.large') return new ApiError('PAYLOAD_TOO_LARGE', 'Request body is too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
  // Anything else Express or body-parser refused as the client's fault: a path that does not decode,
  // a body whose declared encoding it is not in.
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'VALIDATION_ERROR', 'The request is malformed: its path, encoding or body cannot be read');
  }
  if (isUnavailable(err)) return new ApiError('SERVICE_UNAVAILABLE', 'A service behind the API is unavailable; retry shortly');
  // A date-time PostgreSQL cannot hold (year 0, or past its range) that a contract let through: the
  // client's value, refused as one, with nothing changed (the statement failed).
  if (DATETIME_OUT_OF_RANGE.has((err as { code?: unknown } | undefined)?.code as string)) return new ApiError('VALIDATION_ERROR', 'A date-time in the request is out of range: use years 0001 to 9999 and a time-zone offset within ±15:59');
  return new ApiError('INTERNAL', 'Internal error');
}
