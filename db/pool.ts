import { Pool, types, type PoolConfig } from 'pg';

/**
 * BIGINT (int8) columns arrive as `bigint`, never as a JS number or a string: money stays exact from
 * the database to the API edge. The parser is set per pool so no global state is touched.
 */
const INT8_OID = 20;
const typeOverrides = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => BigInt(value);
    return types.getTypeParser(oid, format);
  },
};

export function createPool(url: string, options: Partial<PoolConfig> = {}): Pool {
  const pool = new Pool({
    connectionString: url,
    max: 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    types: typeOverrides as PoolConfig['types'],
    application_name: 'coop-credits',
    ...options,
  });
  // An idle client that loses its connection (e.g. a database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
