import path from 'node:path';
import type { Config, SuperfluidSettings } from '../config/config';
import { startAnvil } from './anvil';
import { ensureChainTools } from './chain-tools';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startStripeMock } from './stripe-mock';
import { ensureSuperfluidDeployment, type SuperfluidDeployment } from './superfluid-deployment';
import { startTemporalDevServer } from './temporal-dev-server';

/**
 * The components the system needs, started unless configured as external: PostgreSQL (embedded),
 * Temporal (the CLI dev server), stripe-mock and an EVM chain with Superfluid (Anvil). Shared by the
 * start command and the test run.
 */
export interface Infrastructure {
  /** The application's connection (coop_app). */
  databaseUrl: string;
  /** The owner's connection, for migrations. */
  databaseOwnerUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  chain: InfrastructureChain;
  stop(): Promise<void>;
}

export interface InfrastructureChain {
  rpcUrl: string;
  superfluid: SuperfluidSettings;
  /** The embedded chain's Superfluid deployment, with its test super token; none on an external chain. */
  deployment?: SuperfluidDeployment;
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
  /** Anvil keeps its chain in `<stateDir>/chain/` (true) or in memory (false). */
  persistChain: boolean;
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
    let chain: InfrastructureChain;
    if (config.chain.external) {
      chain = { rpcUrl: config.chain.rpcUrl, superfluid: config.chain.superfluid };
    } else {
      await ensureChainTools(log);
      log(`Starting Anvil on ${config.chain.anvilPort ? `port ${config.chain.anvilPort}` : 'a free port'}`);
      const anvil = await startAnvil({
        port: config.chain.anvilPort,
        stateFile: opts.persistChain ? path.join(stateDir, 'chain', 'anvil-state.json') : undefined,
        // The kept chain (npm start) moves with the clock, so each sampling instant is reached within a minute;
        // the tests' chains move only when a test mines, at the instants it chooses.
        blockTimeSeconds: opts.persistChain ? 60 : undefined,
        logFile: path.join(stateDir, 'logs', 'anvil.log'),
        log,
      });
      stops.push(anvil.stop);
      const deployment = await ensureSuperfluidDeployment({
        rpcUrl: anvil.rpcUrl,
        file: path.join(stateDir, 'chain', 'superfluid.json'),
        logFile: path.join(stateDir, 'logs', 'superfluid-deploy.log'),
        log,
      });
      chain = { rpcUrl: anvil.rpcUrl, superfluid: { host: deployment.host, cfaV1Forwarder: deployment.cfaV1Forwarder }, deployment };
    }
    return { databaseUrl, databaseOwnerUrl, temporalAddress, temporalUiUrl, chain, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The variables that point the API, the worker and test files at the run's chain (config/config.ts reads them). */
export function chainEnvironment(chain: InfrastructureChain): Record<string, string> {
  return {
    CHAIN_RPC_URL: chain.rpcUrl,
    SUPERFLUID_HOST_ADDRESS: chain.superfluid.host,
    SUPERFLUID_CFA_FORWARDER_ADDRESS: chain.superfluid.cfaV1Forwarder,
  };
}
