import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from './ports';
import { stopProcess, supervise } from './supervised-process';
import { ensureGoTool, STRIPE_MOCK } from './tools';

/** stripe-mock: Stripe's API served locally from its OpenAPI spec and fixtures. */
export async function startStripeMock(opts: { port: number; logFile: string; log: (line: string) => void }): Promise<{ stop(): Promise<void> }> {
  const executable = await ensureGoTool(STRIPE_MOCK, opts.log);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  // Own process group, like the other services: the start command stops it in order.
  // Its HTTPS listener (unused) takes a port the system chooses, so several stacks can run side by side.
  const child = spawn(executable, ['-http-addr', `127.0.0.1:${opts.port}`, '-https-addr', '127.0.0.1:'], { stdio: ['ignore', logFd, logFd], detached: true });
  fs.closeSync(logFd);
  const server = supervise(child);
  await waitForPort('stripe-mock', opts.port, child, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}. Is port ${opts.port} in use? Set STRIPE_MOCK_PORT. See ${opts.logFile}.`);
  });
  return { stop: () => stopProcess(server, 'SIGTERM', 5_000) };
}
