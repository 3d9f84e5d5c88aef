import fs from 'node:fs';
import type { Config } from './config';

/**
 * Connection options shared by the client (API, scripts) and the worker's native connection:
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
