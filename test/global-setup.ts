import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/config';
import { projectRoot } from '../config/project-root';
import { enableAppLogin, migrate } from '../db/migrate';
import { APP_PASSWORD, asApplication } from './harness/database-roles';
import { chainEnvironment, startInfrastructure, type Infrastructure } from '../scripts/infrastructure';
import { bundleWorkflows } from '../workers/bundle';
import { freePort } from '../scripts/ports';

export interface TestInfrastructure {
  infrastructure: Infrastructure;
  stateDir: string;
}

/** Set by the first project's setup of a run; the projects that share the services find it here. */
export const testInfrastructure = globalThis as { __testInfrastructure?: Promise<TestInfrastructure> };

/**
 * One PostgreSQL, one Temporal dev server, one stripe-mock and one Anvil with Superfluid for the whole
 * run (or DATABASE_URL / TEMPORAL_ADDRESS when given), migrated once, and the workflow code bundled
 * once; test files read what they need from the environment this sets. Several jest projects use it (integration, workflows, e2e):
 * jest runs a project's global setup only when one of its tests is selected, and the services start
 * once per run whichever project asks first. The unit project has no global setup and starts nothing.
 */
export default async function globalSetup(): Promise<void> {
  testInfrastructure.__testInfrastructure ??= startServices();
  await testInfrastructure.__testInfrastructure;
}

async function startServices(): Promise<TestInfrastructure> {
  const log = (line: string) => process.stderr.write(`[test-setup] ${line}\n`);
  const stateDir = path.join(projectRoot, '.state', 'test', String(process.pid));
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });

  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    STRIPE_MOCK_PORT: String(await freePort()),
    // Tests steer the chain's clock (evm_setNextBlockTimestamp) and mint test tokens: always their own Anvil.
    CHAIN_RPC_URL: undefined,
    SUPERFLUID_HOST_ADDRESS: undefined,
    ANVIL_PORT: '0',
  });
  const infrastructure = await startInfrastructure({ config, stateDir, persistTemporal: false, fastTemporalStore: true, withTemporalUi: false, persistChain: false, log });
  // Ctrl-C on a test run must not leave the services behind.
  process.once('SIGINT', () => void infrastructure.stop().finally(() => process.exit(130)));

  const bundlePath = path.join(stateDir, 'workflow-bundle.js');
  const testSuperToken = infrastructure.chain.deployment?.testSuperToken;
  try {
    if (!testSuperToken) throw new Error('The test run started no chain of its own');
    await migrate(infrastructure.databaseOwnerUrl, 'up');
    await enableAppLogin(infrastructure.databaseOwnerUrl, APP_PASSWORD);
    fs.writeFileSync(bundlePath, (await bundleWorkflows()).code);
  } catch (err) {
    await infrastructure.stop();
    throw err;
  }

  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // Tests inspect the database as its owner; the API and workers they start log in as coop_app.
    DATABASE_URL: infrastructure.databaseOwnerUrl,
    DATABASE_APP_URL: asApplication(infrastructure.databaseOwnerUrl),
    TEMPORAL_ADDRESS: infrastructure.temporalAddress,
    TEST_WORKFLOW_BUNDLE: bundlePath,
    // A queue of the run's own: a worker of `npm start` on the same Temporal must not take its tasks.
    TEMPORAL_TASK_QUEUE: `coop-credits-test-${process.pid}`,
    TEST_STATE_DIR: stateDir,
    STRIPE_MOCK_PORT: String(config.stripe.mockPort),
    ...chainEnvironment(infrastructure.chain),
    TEST_SUPER_TOKEN_ADDRESS: testSuperToken.address,
    TEST_SUPER_TOKEN_UNDERLYING_ADDRESS: testSuperToken.underlying,
    // Tests send many requests under few tokens; the rate-limit test sets its own small budgets.
    RATE_LIMIT_PUBLIC: '1000000', RATE_LIMIT_MEMBER_QUERIES: '1000000', RATE_LIMIT_MEMBER_MUTATIONS: '1000000', RATE_LIMIT_ADMIN: '1000000', RATE_LIMIT_SERVICE: '1000000',
  });
  return { infrastructure, stateDir };
}
