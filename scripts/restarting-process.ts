import type { ChildProcess } from 'node:child_process';
import { stopProcess, supervise, type Supervised } from './supervised-process';

export interface RestartPolicy {
  /** Wait before the first restart; doubles after each quick exit, up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A process that ran this long before exiting starts again from the initial backoff. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialBackoffMs: 1_000, maxBackoffMs: 30_000, stableAfterMs: 60_000 };

export interface RestartingProcess {
  /** The running child, if one is running now. */
  current(): ChildProcess | undefined;
  /** How often it has been started again. */
  restarts(): number;
  /** Stops it for good: no restart after this. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

/**
 * Keeps a process running: when it exits without being asked to, it is started again after a backoff
 * that doubles while it keeps failing quickly, and the log says why and when. Work it had in flight is
 * not lost: workflows resume on the restarted worker, and a client retries a request that failed.
 */
export function keepRunning(name: string, start: () => ChildProcess, log: (line: string) => void, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartingProcess {
  let child: Supervised | undefined;
  let stopping = false;
  let restarts = 0;
  let backoff = policy.initialBackoffMs;
  let timer: NodeJS.Timeout | undefined;

  const launch = () => {
    const startedAt = Date.now();
    const process = start();
    child = supervise(process);
    process.once('exit', (code, signal) => {
      child = undefined;
      if (stopping) return;
      if (Date.now() - startedAt >= policy.stableAfterMs) backoff = policy.initialBackoffMs;
      log(`${name} exited unexpectedly (${signal ?? `code ${code}`}); restarting it in ${(backoff / 1000).toFixed(1)} s`);
      timer = setTimeout(() => {
        restarts += 1;
        log(`${name} restarting (restart ${restarts})`);
        launch();
      }, backoff);
      backoff = Math.min(backoff * 2, policy.maxBackoffMs);
    });
  };
  launch();

  return {
    current: () => child?.process,
    restarts: () => restarts,
    async stop(signal, graceMs) {
      stopping = true;
      clearTimeout(timer);
      if (child) await stopProcess(child, signal, graceMs);
    },
  };
}
