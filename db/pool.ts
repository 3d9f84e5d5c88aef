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
  // A client that loses its connection (a database restart, a killed backend) emits 'error'; unheard, it
  // would end the process. Idle clients report through the pool; checked-out ones through their own
  // listener, while the query in flight fails on its own and is answered as 503 (api/errors.ts).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}
