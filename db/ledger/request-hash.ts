import { createHash } from 'node:crypto';

/** Canonical JSON (sorted keys, bigints as strings) so equal requests hash equally, and signed records verify. */
export function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The hash an idempotency key is bound to: the operation and everything it was asked to do. */
export function requestHash(operation: string, request: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonical(request)}`).digest('hex');
}
