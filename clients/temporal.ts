import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import { dataConverter } from './data-converter';

/**
 * Connection options shared by the client (API, scripts, tests) and the worker's native connection:
 * plain for the dev server, TLS for a cluster, an API key or mTLS certificates for Temporal Cloud.
 */
export function temporalConnectionOptions(temporal: Config['temporal']) {
  const tls = !temporal.tls
    ? undefined
    : temporal.tlsCertPath && temporal.tlsKeyPath
      ? { clientCertPair: { crt: fs.readFileSync(temporal.tlsCertPath), key: fs.readFileSync(temporal.tlsKeyPath) } }
      : true;
  return {
    address: temporal.address,
    ...(tls ? { tls } : {}),
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
  };
}

/**
 * A Temporal client on the configured namespace, speaking the project's data converter. `lazy` connects
 * on first use instead of now: the API starts and serves everything that needs no workflow while
 * Temporal is away (its readiness says so, and calls that need Temporal answer 503 until it is back).
 */
export async function connectTemporalClient(temporal: Config['temporal'], options: { lazy?: boolean } = {}): Promise<{ client: Client; connection: Connection }> {
  const connectionOptions = temporalConnectionOptions(temporal);
  const connection = options.lazy ? Connection.lazy(connectionOptions) : await Connection.connect(connectionOptions);
  return { client: new Client({ connection, namespace: temporal.namespace, dataConverter }), connection };
}
