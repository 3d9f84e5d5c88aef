/** JSON for query parameters: bigints as decimal strings, which PostgreSQL reads back as BIGINT. */
export function toJsonParam(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
