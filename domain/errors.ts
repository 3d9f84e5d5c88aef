/**
 * The one list of error codes. Clients branch on these, never on messages; the API maps each to an
 * HTTP status (api/errors.ts), activities carry them as Temporal failure types, and workflows and the
 * API turn those back into the same error.
 */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'INSUFFICIENT_FUNDS',
  'IDEMPOTENCY_MISMATCH',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'PAYMENT_PROVIDER_ERROR',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Codes a business rule can refuse with (the rest belong to the HTTP edge). */
export const BUSINESS_ERROR_CODES = ['VALIDATION_ERROR', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'INSUFFICIENT_FUNDS', 'IDEMPOTENCY_MISMATCH'] as const satisfies readonly ErrorCode[];
export type BusinessErrorCode = (typeof BUSINESS_ERROR_CODES)[number];

export function isBusinessErrorCode(value: unknown): value is BusinessErrorCode {
  return typeof value === 'string' && (BUSINESS_ERROR_CODES as readonly string[]).includes(value);
}

/** A refusal by a business rule: final (never retried) and carrying its stable code. */
export class BusinessError extends Error {
  override readonly name = 'BusinessError';
  constructor(
    readonly code: BusinessErrorCode,
    message: string,
  ) {
    super(message);
  }
}
