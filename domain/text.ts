/**
 * What text the product stores. Any string must be storable: no NUL and valid UTF-16 (a lone
 * surrogate cannot be encoded). Display text (names, titles, reasons, memos) must also read as what it
 * is: no control characters (so no line breaks that forge log or table lines), no bidirectional
 * overrides or isolates (U+202A–U+202E, U+2066–U+2069, which reorder what a reader sees), and no
 * zero-width or invisible characters (U+200B–U+200F, U+2060–U+2064, U+FEFF) that make two names
 * look alike. Long text (descriptions) may break lines with LF, CR LF or tab.
 */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const INVISIBLE_OR_REORDERING = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Storable: the database can hold it as text and JSON. */
export function isStorable(text: string): boolean {
  return !text.includes('\u0000') && isWellFormed(text);
}

/** Why `text` is not acceptable display text, or undefined when it is. */
export function displayTextProblem(text: string, options: { multiline?: boolean } = {}): string | undefined {
  if (!isWellFormed(text)) return 'must be valid Unicode';
  if ((options.multiline ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).test(text)) return options.multiline ? 'must not contain control characters other than line breaks and tabs' : 'must not contain control characters or line breaks';
  if (INVISIBLE_OR_REORDERING.test(text)) return 'must not contain bidirectional-override, zero-width or invisible characters';
  return undefined;
}

/** The path of the first string (key or value) in `value` that is not storable, or undefined. */
export function unstorablePath(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') return isStorable(value) ? undefined : path.join('.');
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = unstorablePath(key, [...path, '(key)'], depth + 1) ?? unstorablePath(item, [...path, key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Below this depth a copy made storable keeps no more (Stripe's events nest a handful of levels). */
const STORABLE_DEPTH = 64;

/**
 * `value` with every string (key or value) made storable: NUL and lone surrogates become U+FFFD, and
 * what nests deeper than PostgreSQL should be asked to parse becomes null. For text received from
 * others that must be kept whatever it holds.
 */
export function storableCopy(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return isStorable(value) ? value : (value.replaceAll('\u0000', '\uFFFD') as unknown as { toWellFormed(): string }).toWellFormed();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= STORABLE_DEPTH) return null;
  if (Array.isArray(value)) return value.map((item) => storableCopy(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableCopy(key) as string, storableCopy(item, depth + 1)]));
}
