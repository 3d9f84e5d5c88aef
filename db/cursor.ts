import { BusinessError } from '../domain/errors';
import { isUuid } from '../domain/ids';

/**
 * Lists page by an opaque cursor: the position of the last item shown, as base64url JSON. A cursor is
 * only ever made here and read back through `readCursor`, which refuses anything it could not have made.
 */
export function makeCursor(position: Array<string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position in `cursor`, checked by `parse` (which throws on anything unexpected); VALIDATION_ERROR otherwise. */
export function readCursor<T>(cursor: string | undefined, parse: (position: unknown[]) => T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(position)) throw new Error('not a position');
    return parse(position);
  } catch {
    throw new BusinessError('VALIDATION_ERROR', 'cursor is not valid');
  }
}

/** A page of a list and the cursor of the next page, if there is one. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cuts `rows` (fetched with limit + 1) to a page, with the cursor of its last item when more follow. */
export function toPage<R, T>(rows: R[], limit: number, position: (row: R) => Array<string | number>, view: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(view), nextCursor: rows.length > limit && last !== undefined ? makeCursor(position(last)) : null };
}

/**
 * The position of a row in a list newest first by creation time: the time in whole microseconds since
 * the epoch (exact, unlike a JS Date, so rows created in the same millisecond are neither skipped nor
 * repeated) and the id. `micros` and `after` are the SQL that reads and compares it.
 */
export interface CreationPosition {
  micros: string;
  id: string;
}

/** The largest values of the SQL types cursor numbers are read as: anything larger was not made by us. */
export const MAX_INT8 = 2n ** 63n - 1n;
export const MAX_XID8 = 2n ** 64n - 1n;

/** A cursor's whole number, within the SQL type it will be read as. */
export const isDecimalUpTo = (value: unknown, max: bigint): value is string => typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) <= max;

/** A cursor's instant exactly as we write it (`Date.toISOString`): other spellings PostgreSQL may refuse. */
export const isCursorInstant = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) && !Number.isNaN(Date.parse(value));

export function readCreationCursor(cursor: string | undefined): CreationPosition | undefined {
  return readCursor(cursor, ([micros, id]) => {
    if (!isDecimalUpTo(micros, MAX_INT8) || typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
    return { micros, id };
  });
}

export const creationPosition = {
  /** SQL: the microseconds of a row's creation time column, as text. */
  micros: (createdAt: string) => `(extract(epoch FROM ${createdAt}) * 1000000)::bigint::text`,
  /** SQL: the row comes after the position given by the parameters `micros` (null on the first page) and `id`. */
  after: (createdAt: string, id: string, micros: string, idParam: string) =>
    `(${micros}::bigint IS NULL OR (${createdAt}, ${id}) < (timestamptz 'epoch' + ${micros}::bigint * interval '1 microsecond', ${idParam}::uuid))`,
};

/** The position of a row in a list by version, newest first: a positive INTEGER. */
export function readVersionCursor(cursor: string | undefined): number | undefined {
  return readCursor(cursor, ([version]) => {
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 2 ** 31 - 1) throw new Error('bad cursor');
    return version;
  });
}
