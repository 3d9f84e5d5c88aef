import { ERROR_CODES } from '../../domain/errors';
import { z } from './zod';

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.array(z.object({ path: z.string().optional(), message: z.string() })).optional(),
      requestId: z.string().optional(),
    }),
  })
  .openapi('Error');

export const Uuid = z.uuid().openapi({ example: '7f3c2a9e-4b1d-4e8f-9a2c-1d5e6f7a8b9c' });

/** A client-chosen key that makes a write safe to retry. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Free text (names, reasons, memos): trimmed, bounded, and without control characters or lone
 * surrogates, which PostgreSQL's JSON refuses, so such text can never block a record from being stored.
 */
export function SafeText(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((s) => !CONTROL.test(s) && (s as unknown as { isWellFormed(): boolean }).isWellFormed(), 'must not contain control characters or invalid Unicode');
}
