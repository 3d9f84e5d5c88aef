import fs from 'node:fs';
import type { Infrastructure } from '../scripts/infrastructure';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __testInfrastructure?: { infrastructure: Infrastructure; stateDir: string } }).__testInfrastructure;
  if (!state) return;
  await state.infrastructure.stop();
  fs.rmSync(state.stateDir, { recursive: true, force: true });
}
