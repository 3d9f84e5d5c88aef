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
  INTERNAL: 500,
};

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
  res.status(error.status).json({
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), requestId: req.id },
  });
};

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BusinessError) return new ApiError(err.code, err.message);
  if (err instanceof MoneyFormatError) return new ApiError('VALIDATION_ERROR', err.message);
  // body-parser's errors carry a `type`; map the ones a client can cause.
  const type = (err as { type?: string } | undefined)?.type;
  if (type === 'entity.parse.failed') return new ApiError('VALIDATION_ERROR', 'Request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError('PAYLOAD_TOO_LARGE', 'Request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
  return new ApiError('INTERNAL', 'Internal error');
}
