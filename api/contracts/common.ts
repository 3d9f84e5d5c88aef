import { ERROR_CODES } from '../errors';
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
