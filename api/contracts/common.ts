import { ERROR_CODES } from '../../domain/errors';
import { checksumAddress } from '../../domain/identity';
import { displayTextProblem } from '../../domain/text';
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

/** The query fields of every paginated list: a page of 1 to 100 (default 25) after the cursor of the last one (db/cursor.ts). */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
};

/** The time-range filter of a list: rows created at or after `createdFrom` and before `createdBefore`. */
export const createdRangeQuery = {
  createdFrom: z.iso.datetime({ offset: true }).optional().openapi({ description: 'only rows created at or after this instant' }),
  createdBefore: z.iso.datetime({ offset: true }).optional().openapi({ description: 'only rows created before this instant' }),
};

/** The response of every paginated list: a page of items and the cursor of the next page (null on the last). */
export const pageOf = <T extends z.ZodType>(item: T, name: string) => z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

/**
 * PostgreSQL's uuid compares without regard to case, JavaScript's strings do not: ids are lower-cased as
 * they are parsed, so access checks, caches, de-duplication and request hashes see one spelling.
 */
export const Uuid = z.uuid().overwrite((id) => id.toLowerCase()).openapi({ example: '7f3c2a9e-4b1d-4e8f-9a2c-1d5e6f7a8b9c' });

/** An identifier from another system (a distribution, an invoice): printable ASCII without spaces. */
export const ExternalId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** A client-chosen key that makes a write safe to retry. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * Display text (names, reasons, memos): trimmed, bounded, one line, and free of control,
 * bidirectional-override and zero-width characters (domain/text.ts), so it can never forge a line in a
 * log or a record, or pass for another name. Long text (descriptions) may break lines.
 */
function displayText(min: number, max: number, options: { multiline?: boolean }) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine((s, ctx) => {
      const problem = displayTextProblem(s, options);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

export const SafeText = (min: number, max: number) => displayText(min, max, {});
export const LongText = (min: number, max: number) => displayText(min, max, { multiline: true });

/** A transform that runs a domain check: what it throws becomes the field's validation message. */
export function refined<T>(check: (v: string) => T) {
  return (value: string, ctx: z.RefinementCtx) => {
    try {
      return check(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid' });
      return z.NEVER;
    }
  };
}

/** An Ethereum address, answered in its EIP-55 checksummed form (a wrong checksum is refused). */
export const EthAddress = z
  .string()
  .max(42)
  .transform(refined((v) => checksumAddress(v) as `0x${string}`))
  .openapi({ type: 'string', example: '0x52908400098527886E0F7030069857D2E4169EE7' });
