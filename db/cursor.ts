import { BusinessError } from '../domain/errors';

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
