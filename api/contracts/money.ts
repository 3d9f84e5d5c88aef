import { MoneyFormatError, parseMicros } from '../../domain/money';
import { z } from './zod';

const DECIMAL_HINT = 'a decimal string such as "12.5" (at most 6 decimals; JSON numbers are refused so no precision is lost)';

/** A decimal string in, a bigint of micro-units out. Refuses JSON numbers, signs, exponents, extra decimals. */
export const DecimalAmount = z
  .string({ error: `must be ${DECIMAL_HINT}` })
  .max(40)
  .transform((text, ctx) => {
    try {
      return parseMicros(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof MoneyFormatError ? `must be ${DECIMAL_HINT}: ${err.message}` : 'invalid amount' });
      return z.NEVER;
    }
  })
  .openapi({ type: 'string', example: '12.5', description: DECIMAL_HINT });

export const PositiveAmount = DecimalAmount.refine((v) => v > 0n, 'must be greater than zero').openapi({ type: 'string', example: '12.5' });

/** Amounts in responses: decimal strings, exact. */
export const AmountString = z.string().openapi({ example: '12.5' });
