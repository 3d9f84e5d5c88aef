import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { anvilExecutable } from './chain-tools';
import { stopProcess, supervise } from './supervised-process';

export interface AnvilOptions {
  /** 0: a port the system picks (tests), read back from Anvil's own output. */
  port: number;
  /**
   * Where Anvil keeps the chain between starts (`--state`): loaded at start, written on a clean stop
   * and every minute, so a crash loses at most a minute. Omitted: in memory (tests).
   */
  stateFile?: string;
  logFile: string;
  log: (line: string) => void;
  /** The genesis block's timestamp (Unix seconds), for a chain whose clock starts in the past (tests). */
  genesisTimestamp?: bigint;
  /**
   * Mine a block every this many seconds besides one per transaction: stream sampling waits for a block
   * at or after each instant, which an idle chain that mines only on transactions never reaches.
   */
  blockTimeSeconds?: number;
}

/**
 * Anvil, the local EVM node from Foundry, installed from npm into chain/. Blocks, transactions, logs
 * and the current state survive a restart through the state file; reads at blocks mined before the
 * restart do not (Anvil would have to keep every block's state, `--preserve-historical-states`, which
 * grows by hundreds of kilobytes a block), so what needs the past reads events, not old state.
 */
export async function startAnvil(opts: AnvilOptions): Promise<{ rpcUrl: string; stop(): Promise<void> }> {
  const executable = anvilExecutable();
  // Superfluid's test deployer contracts exceed the 24 kB contract size limit of EIP-170; its deployment
  // script fails with CreateContractSizeLimit unless the chain lifts it, as Superfluid's own docs ask.
  const args = ['--host', '127.0.0.1', '--port', String(opts.port), '--disable-code-size-limit'];
  if (opts.genesisTimestamp !== undefined) args.push('--timestamp', opts.genesisTimestamp.toString());
  // Mixed: transactions are still mined at once (interval mining alone would hold each one for the interval).
  if (opts.blockTimeSeconds !== undefined) args.push('--block-time', String(opts.blockTimeSeconds), '--mixed-mining');
  if (opts.stateFile) {
    fs.mkdirSync(path.dirname(opts.stateFile), { recursive: true });
    args.push('--state', opts.stateFile, '--state-interval', '60');
  }
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logStart = fs.existsSync(opts.logFile) ? fs.statSync(opts.logFile).size : 0;
  const logFd = fs.openSync(opts.logFile, 'a');
  // Own process group, like the other services: the start command stops it in order.
  const child = spawn(executable, args, { stdio: ['ignore', logFd, logFd], detached: true });
  fs.closeSync(logFd);
  const anvil = supervise(child);
  const port = await listeningPort(child, opts.logFile, logStart).catch(async (err: Error) => {
    await stopProcess(anvil, 'SIGKILL', 0);
    const damaged = opts.stateFile ? ` If it cannot read ${opts.stateFile}, move that file away to start a new chain.` : '';
    throw new Error(`Anvil did not start: ${err.message}. Is port ${opts.port} in use? Set ANVIL_PORT. See ${opts.logFile}.${damaged}`);
  });
  // SIGTERM makes Anvil write its state file before it exits; a large state takes a moment.
  return { rpcUrl: `http://127.0.0.1:${port}`, stop: () => stopProcess(anvil, 'SIGTERM', 30_000) };
}

/**
 * The port Anvil says it listens on. Its own line, not an open port: on a port another process holds,
 * Anvil exits, and a port check could meet that other process (another chain) before it does.
 */
async function listeningPort(child: ChildProcess, logFile: string, from: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const output = fs.readFileSync(logFile).subarray(from).toString();
    const listening = /Listening on [^\s]+:(\d+)/.exec(output);
    if (listening) return Number(listening[1]);
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode} (${output.trim().split('\n').slice(-2).join(' ')})`);
    if (Date.now() > deadline) throw new Error('it did not listen within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
