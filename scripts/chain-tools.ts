import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';

/**
 * The embedded chain's tools live in their own package, chain/ (Anvil, Hardhat, ethers 5 and
 * Superfluid's contracts, about 600 MB): installed from npm the first time the embedded chain starts,
 * never part of the application's dependencies or image (decision 0017).
 */
export const chainToolsDir = path.join(projectRoot, 'chain');

/** Installs chain/ when it is missing or older than its lock file (scripts/bootstrap.sh decides), with progress. */
export async function ensureChainTools(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const output: string[] = [];
  let installing = false;
  const ticker = setInterval(() => {
    if (installing) log(`  ... still installing the chain tools (${Math.round((Date.now() - started) / 1000)} s)`);
  }, 20_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('bash', [path.join(projectRoot, 'scripts', 'bootstrap.sh'), 'chain'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (d: Buffer) => {
        const text = d.toString();
        output.push(text);
        for (const line of text.split('\n')) {
          if (!line.startsWith('[bootstrap] ')) continue;
          installing = line.startsWith('[bootstrap] Installing ');
          log(line.slice('[bootstrap] '.length));
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) {
      throw new Error(
        `Installing the local chain's tools failed (bash scripts/bootstrap.sh chain, exit ${code}):\n${output.join('').slice(-4000)}\n` +
          'Check that the npm registry is reachable and start again, or set CHAIN_RPC_URL and SUPERFLUID_HOST_ADDRESS to use a chain that runs elsewhere.',
      );
    }
  } finally {
    clearInterval(ticker);
  }
}

/**
 * Anvil's binary. @foundry-rs/anvil ships it in a platform package (an optional dependency, so npm
 * installs only the machine's own); its install script, where allowed, downloads that same package
 * from the npm registry into the wrapper's folder when the platform package is missing. The binary is
 * run directly rather than through the wrapper's node script, so a stop signal reaches Anvil itself
 * and the stop waits until it has written its state.
 */
export function anvilExecutable(): string {
  const os = ({ linux: 'linux', darwin: 'darwin', win32: 'win32' } as Record<string, string>)[process.platform];
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const candidates = [
    ...(os && arch ? [path.join(chainToolsDir, 'node_modules', '@foundry-rs', `anvil-${os}-${arch}`, 'bin', binary)] : []),
    path.join(chainToolsDir, 'node_modules', '@foundry-rs', 'anvil', binary),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `Anvil is not installed for ${process.platform}-${process.arch} (looked for ${candidates.join(', ')}). ` +
        'Run `bash scripts/bootstrap.sh chain` and start again, or set CHAIN_RPC_URL to use a chain that runs elsewhere.',
    );
  }
  return found;
}

/** Hardhat's command line in chain/, run with node so no install script or PATH entry is needed. */
export const hardhatCli = path.join(chainToolsDir, 'node_modules', 'hardhat', 'internal', 'cli', 'cli.js');
