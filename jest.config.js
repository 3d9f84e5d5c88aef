/**
 * Four projects. `unit` needs no service and has no global setup: `npx jest --selectProjects unit`
 * starts nothing. The others share test/global-setup.ts, which starts one PostgreSQL, one Temporal dev
 * server and stripe-mock once per run, whichever of them runs first (jest runs a project's global setup
 * only when one of its tests is selected). `workflows` also prepares Temporal's time-skipping test
 * server. `npm test` (jest) runs them all.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': '@swc/jest' },
};
const withServices = {
  ...shared,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};

module.exports = {
  testTimeout: 60_000,
  // One test file per core: each e2e file runs its own API and worker beside the shared services, and
  // with more files than cores at once their workflow tasks starved past Temporal's task timeout.
  maxWorkers: Math.max(2, require('node:os').availableParallelism()),
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'], testMatch: ['**/*.test.ts'] },
    { ...withServices, displayName: 'integration', roots: ['<rootDir>/test/integration', '<rootDir>/test/property'], testMatch: ['**/*.test.ts'] },
    { ...withServices, displayName: 'workflows', roots: ['<rootDir>/test/workflows'], testMatch: ['**/*.test.ts'], globalSetup: '<rootDir>/test/global-setup-workflows.ts' },
    { ...withServices, displayName: 'e2e', roots: ['<rootDir>/test/e2e'], testMatch: ['**/*.test.ts'] },
  ],
};
