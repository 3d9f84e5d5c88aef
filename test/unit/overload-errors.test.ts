import { ServiceError } from '@temporalio/client';
import type { Request, Response } from 'express';
import { errorHandler } from '../../api/errors';

/** What the error handler answers for an error: status, code and Retry-After. */
function answer(err: unknown): { status: number; code: string; retryAfter: string | undefined } {
  const headers: Record<string, string> = {};
  let status = 0;
  let body: { error: { code: string } } | undefined;
  const res = {
    setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v),
    status(s: number) {
      status = s;
      return this;
    },
    json(b: typeof body) {
      body = b;
      return this;
    },
  } as unknown as Response;
  errorHandler(err, { id: 'r', log: { error: () => undefined, warn: () => undefined } } as unknown as Request, res, () => undefined);
  return { status, code: body!.error.code, retryAfter: headers['retry-after'] };
}

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('overload answers 503 with Retry-After, never 500', () => {
  it.each([
    ['too many connections', pgError('53300')],
    ['out of memory', pgError('53200')],
    ['disk full', pgError('53100')],
    ['statement timeout', pgError('57014')],
    ['lock timeout', pgError('55P03')],
    ['the pool has no free client in time', new Error('timeout exceeded when trying to connect')],
    ["Temporal's RESOURCE_EXHAUSTED", new ServiceError('limit on number of concurrent in-flight updates has been reached (10)', { cause: Object.assign(new Error('8 RESOURCE_EXHAUSTED'), { code: 8, details: 'limit' }) })],
    ["Temporal's UNAVAILABLE", new ServiceError('unavailable', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'down' }) })],
  ])('%s', (_name, err) => {
    expect(answer(err)).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '2' });
  });

  it('still answers 500 for a genuine bug', () => {
    expect(answer(new TypeError('x is undefined'))).toMatchObject({ status: 500, code: 'INTERNAL', retryAfter: undefined });
  });
});

describe("a date-time PostgreSQL cannot hold is the client's value", () => {
  it.each([
    ['year 0 (datetime_field_overflow)', pgError('22008', 'date/time field value out of range: "0000-01-01T00:00:00.000Z"')],
    ['invalid_datetime_format', pgError('22007', 'invalid input syntax for type timestamp with time zone')],
  ])('%s answers 400 VALIDATION_ERROR', (_name, err) => {
    expect(answer(err)).toEqual({ status: 400, code: 'VALIDATION_ERROR', retryAfter: undefined });
  });

  it('other data exceptions stay ours (500): a division by zero is a bug, not input', () => {
    expect(answer(pgError('22012', 'division by zero'))).toMatchObject({ status: 500, code: 'INTERNAL' });
  });
});
