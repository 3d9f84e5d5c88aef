import path from 'node:path';
import type { Config } from '../config/config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startStripeMock } from './stripe-mock';
import { startTemporalDevServer } from './temporal-dev-server';

/**
 * The components the system needs, started unless configured as external: PostgreSQL (embedded),
 * Temporal (the CLI dev server) and stripe-mock. Shared by the start command and the test run.
 */
export interface Infrastructure {
  /** The application's connection (coop_app). */
  databaseUrl: string;
  /** The owner's connection, for migrations. */
  databaseOwnerUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  stop(): Promise<void>;
}

export interface InfrastructureOptions {
  config: Config;
  /** Where this run keeps data and logs. */
  stateDir: string;
  /** Temporal keeps its history in `<stateDir>/temporal.db` (true) or in memory (false). */
  persistTemporal: boolean;
  /** Faster, non-durable SQLite for Temporal (tests, benchmarks). */
  fastTemporalStore?: boolean;
  withTemporalUi: boolean;
  log: (line: string) => void;
}

export async function startInfrastructure(opts: InfrastructureOptions): Promise<Infrastructure> {
  const { config, stateDir, log } = opts;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`stop failed: ${String(err)}`));
  };
  try {
    const databaseUrl = config.database.url;
    let databaseOwnerUrl = config.database.ownerUrl;
    if (!config.database.external) {
      log(`Starting embedded PostgreSQL on port ${config.database.embeddedPort}`);
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(stateDir, 'postgres'),
        port: config.database.embeddedPort,
        database: 'coop_credits',
        logFile: path.join(stateDir, 'logs', 'postgres.log'),
        log,
      });
      stops.push(pg.stop);
      databaseOwnerUrl = pg.url;
    }

    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (!config.temporal.external) {
      log(`Starting Temporal dev server on port ${config.temporal.devPort}`);
      const temporal = await startTemporalDevServer({
        port: config.temporal.devPort,
        uiPort: opts.withTemporalUi ? config.temporal.uiPort : undefined,
        namespace: config.temporal.namespace,
        dbFile: opts.persistTemporal ? path.join(stateDir, 'temporal.db') : undefined,
        fastStore: opts.fastTemporalStore,
        logFile: path.join(stateDir, 'logs', 'temporal.log'),
        log,
      });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }
    if (!config.stripe.external) {
      log(`Starting stripe-mock on port ${config.stripe.mockPort}`);
      const stripe = await startStripeMock({ port: config.stripe.mockPort, logFile: path.join(stateDir, 'logs', 'stripe-mock.log'), log });
      stops.push(stripe.stop);
    }
    return { databaseUrl, databaseOwnerUrl, temporalAddress, temporalUiUrl, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
