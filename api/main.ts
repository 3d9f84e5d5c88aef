import pino from 'pino';
import { loadConfig } from '../config/config';
import { createStripeClient } from '../clients/stripe';
import { connectTemporalClient } from '../clients/temporal';
import { createPool } from '../db/pool';
import { createApp } from './app';
import { answerClientErrors } from './client-errors';

/** API process entry point. SIGINT/SIGTERM stop accepting connections and finish in-flight requests. */
async function main(): Promise<void> {
  const config = loadConfig();
  // Log lines are written in blocks of a few kilobytes (at least every second), not one write each: a
  // request line costs the API about as much as answering a read when every line is its own write.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 1000).unref();
  const logger = pino({ level: config.logLevel, base: { service: 'api' } }, destination);
  const pool = createPool(config.database.url, { max: config.database.poolMax });
  const { client: temporal, connection } = await connectTemporalClient(config.temporal, { lazy: true });
  const app = createApp({ config, pool, temporal, logger, stripe: createStripeClient(config.stripe) });

  const server = app.listen(config.api.port, config.api.host, () => {
    logger.info({ port: config.api.port }, 'api listening');
  });
  answerClientErrors(server);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api stopping');
    server.close(async () => {
      await connection.close();
      await pool.end();
      destination.flushSync();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
