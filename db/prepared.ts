import { inline } from './inline';

/**
 * Hot statements, prepared (SQL PREPARE) once on each connection the first time a transaction runs on it
 * (db/transaction.ts), so the server parses and plans them once per connection instead of on every use.
 * A transaction's opening and closing batches travel as one simple-protocol message, which has no
 * parameters and no plan cache of its own: there, `EXECUTE name(literals)` is what keeps the plan.
 * Measured by bench/ledger-profile.ts (decision 0030).
 */
const registry = new Map<string, string>();

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Registers `text` under `name`; the same name must always mean the same statement. */
export function register(name: string, text: string): void {
  if (!NAME.test(name)) throw new Error(`a prepared statement's name must be an SQL identifier in lower case: ${name}`);
  const known = registry.get(name);
  if (known !== undefined && known !== text) throw new Error(`two statements are prepared as ${name}`);
  registry.set(name, text);
}

/** The statement that runs `name` with `values`, as literals (db/inline.ts). */
export function executeStatement(name: string, values: readonly unknown[]): string {
  return inline(values.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${values.map((_v, i) => `$${i + 1}`).join(', ')})`, [...values]);
}

/** A statement prepared on every connection, and a function giving the statement that runs it with its values. */
export function prepared(name: string, text: string): (...values: unknown[]) => string {
  register(name, text);
  return (...values) => executeStatement(name, values);
}

/** Every registered statement, by name. */
export function registeredStatements(): ReadonlyMap<string, string> {
  return registry;
}
