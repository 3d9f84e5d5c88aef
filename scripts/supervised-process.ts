import type { ChildProcess } from 'node:child_process';

/** A child process and a promise that settles when it has exited. */
export interface Supervised {
  process: ChildProcess;
  exited: Promise<void>;
}

export function supervise(child: ChildProcess): Supervised {
  return { process: child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
}

/** Asks the process to stop with `signal`, and kills it if it has not exited after `graceMs`. */
export async function stopProcess(child: Supervised, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill(signal);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
