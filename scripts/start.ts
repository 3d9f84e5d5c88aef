import { spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config';
import { enableAppLogin, migrate } from '../db/migrate';
import { chainEnvironment, startInfrastructure, type Infrastructure } from './infrastructure';
import { keepRunning, type RestartingProcess } from './restarting-process';

/**
 * `npm start`: PostgreSQL, Temporal, stripe-mock and the chain (unless external), migrations, the worker
 * and the API, each kept running (restarted with backoff if it crashes). Ctrl-C or SIGTERM stops
 * everything it started, in order: API, worker (running activities finish), the chain (which writes its
 * state), stripe-mock, Temporal, PostgreSQL. Data stays in the state folder, so starting again keeps it.
 */
const log = (line: string) => process.stdout.write(`[start] ${line}\n`);

async function main(): Promise<void> {
  const config = loadConfig();
  let infrastructure: Infrastructure | undefined;
  const children: RestartingProcess[] = [];
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('Stopping...');
    // API first, then the worker, which lets running activities finish (its grace is 30 s).
    for (const child of [...children].reverse()) await child.stop('SIGTERM', 40_000);
    await infrastructure?.stop();
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    infrastructure = await startInfrastructure({ config, stateDir: config.stateDir, persistTemporal: true, persistChain: true, withTemporalUi: true, log });
    log('Running migrations');
    const applied = await migrate(infrastructure.databaseOwnerUrl, 'up');
    // The API and worker log in as coop_app, which row-level security binds; only migrations run as the owner.
    if (config.database.appPassword) await enableAppLogin(infrastructure.databaseOwnerUrl, config.database.appPassword);
    log(applied.length ? `Applied ${applied.join(', ')}` : 'Database is up to date');

    const env = { ...process.env, DATABASE_URL: infrastructure.databaseUrl, TEMPORAL_ADDRESS: infrastructure.temporalAddress, ...chainEnvironment(infrastructure.chain) };
    for (const name of ['worker', 'api'] as const) {
      const entry = path.join(__dirname, '..', name === 'worker' ? 'workers' : 'api', 'main.js');
      // Own process group: the terminal's Ctrl-C reaches only this process, which stops children in order.
      // A child that crashes is started again with backoff: the rest of the system keeps running.
      children.push(keepRunning(name, () => spawn(process.execPath, [entry], { env, stdio: 'inherit', detached: true }), log));
    }

    const apiUrl = `http://localhost:${config.api.port}`;
    await waitForReady(`http://127.0.0.1:${config.api.port}/readyz`, () => stopping);
    log('Ready.');
    log(`  API          ${apiUrl}   (readiness: ${apiUrl}/readyz)`);
    log(`  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`);
    log(`  Temporal UI  ${infrastructure.temporalUiUrl ?? `(external Temporal at ${infrastructure.temporalAddress})`}`);
    log(`  Metrics      ${apiUrl}/metrics`);
    log(`  Chain RPC    ${infrastructure.chain.rpcUrl}   (Superfluid host ${infrastructure.chain.superfluid.host})`);
    const testToken = infrastructure.chain.deployment?.testSuperToken;
    if (testToken) log(`  Test token   ${testToken.symbol} ${testToken.address} (over ${testToken.underlyingSymbol} ${testToken.underlying}, mintable by anyone)`);
    log('  A token for local use: npm run token -- --role operator');
    log('Press Ctrl-C to stop.');
  } catch (err) {
    log(err instanceof ConfigError || err instanceof Error ? err.message : String(err));
    await stop(1);
  }
}

async function waitForReady(url: string, abandoned: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!abandoned()) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`The API did not become ready within 120 s (${url}).`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

void main();
