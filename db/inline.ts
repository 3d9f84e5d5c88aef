import { escapeLiteral } from 'pg';

/**
 * Values inlined into SQL as literals, the one place that does it: for statements that travel several to
 * a message (a transaction's opening or closing batch, db/transaction.ts), where the simple protocol that
 * carries them has no parameters. The statements keep their `$n` placeholders and their values apart, as
 * parameterised ones do, so no value is ever pasted into SQL by hand.
 */

/** A value as an SQL literal; its type comes from the context or a cast in the SQL, as a parameter's would. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot inline ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (Array.isArray(value)) {
    // PostgreSQL's array text form, each element quoted; the SQL casts it (`$1::uuid[]`).
    return escapeLiteral(`{${value.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`);
  }
  if (typeof value === 'string') return escapeLiteral(value);
  return escapeLiteral(JSON.stringify(value));
}

/** The statement with `$n` replaced by its value's literal. */
export function inline(text: string, values: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_m, n: string) => {
    const index = Number(n) - 1;
    if (index >= values.length) throw new Error(`no value for $${n}`);
    return literal(values[index]);
  });
}
