import fs from 'node:fs';
import { testInfrastructure } from './global-setup';

/** Stops what global-setup started, once, whichever of the projects sharing it tears down first (jest tears down after every test has run). */
export default async function globalTeardown(): Promise<void> {
  const started = testInfrastructure.__testInfrastructure;
  if (!started) return;
  testInfrastructure.__testInfrastructure = undefined;
  // A setup that failed has stopped what it started.
  const state = await started.catch(() => undefined);
  if (!state) return;
  const { infrastructure, stateDir } = state;
  await infrastructure.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
}
