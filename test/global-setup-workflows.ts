import globalSetup from './global-setup';
import { ensureTemporalTestServer } from '../scripts/temporal-test-server';

/**
 * The workflows project: the shared services (PostgreSQL, stripe-mock, the workflow bundle), plus
 * Temporal's time-skipping test server, fetched once into .tools/ and started by each workflow test file.
 */
export default async function workflowsGlobalSetup(): Promise<void> {
  const [, testServer] = await Promise.all([globalSetup(), ensureTemporalTestServer((line) => process.stderr.write(`[test-setup] ${line}\n`))]);
  process.env.TEMPORAL_TEST_SERVER = testServer;
}
