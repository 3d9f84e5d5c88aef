import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { stopProcess, supervise } from './supervised-process';
import { ensureGoTool, TEMPORAL_CLI } from './tools';

/** The Temporal CLI's dev server: server, SQLite store and Web UI in one process. */
export interface TemporalDevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  port: number;
  uiPort?: number;
  namespace: string;
  /** SQLite file; omitted means in-memory (tests). */
  dbFile?: string;
  /** Faster, non-durable SQLite settings, as Temporal's own SDK CI uses (tests and benchmarks). */
  fastStore?: boolean;
  logFile: string;
  log: (line: string) => void;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const executable = await ensureGoTool(TEMPORAL_CLI, opts.log);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'error'];
  args.push(...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  args.push('--sqlite-pragma', 'journal_mode=WAL');
  if (opts.fastStore) args.push('--sqlite-pragma', 'synchronous=OFF');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);

  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  // Its own process group: Ctrl-C reaches only the start command, which stops services in order.
  const child = spawn(executable, args, { stdio: ['ignore', logFd, logFd], detached: true });
  fs.closeSync(logFd);
  const server = supervise(child);

  const address = `127.0.0.1:${opts.port}`;
  await waitUntilServing(address, child, opts.logFile);
  return {
    address,
    uiUrl: opts.uiPort ? `http://localhost:${opts.uiPort}` : undefined,
    stop: () => stopProcess(server, 'SIGTERM', 10_000),
  };
}

async function waitUntilServing(address: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Temporal dev server exited with code ${child.exitCode}. Is port ${address} in use? See ${logFile}.`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal dev server did not answer on ${address} within 60 s (${String(err)}). See ${logFile}.`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
