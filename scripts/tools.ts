import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';

/**
 * Go-built tools the stack needs. Each is taken from PATH when present, otherwise built once, pinned,
 * into the ignored `.tools/bin` folder. Real users elsewhere install them with a package manager.
 */
export interface GoTool {
  binary: string;
  module: string;
  version: string;
  installHint: string;
}

export const TEMPORAL_CLI: GoTool = {
  binary: 'temporal',
  // Later tags carry a `replace` directive that `go install` refuses.
  module: 'github.com/temporalio/cli/cmd/temporal',
  version: 'v1.5.1',
  installHint: 'install the Temporal CLI with your package manager (for example `brew install temporal`) and make sure `temporal` is on PATH',
};

export const STRIPE_MOCK: GoTool = {
  binary: 'stripe-mock',
  module: 'github.com/stripe/stripe-mock',
  // Pinned: its fixtures and OpenAPI spec change between releases.
  version: 'v0.203.0',
  installHint: 'install stripe-mock (for example `brew install stripe/stripe-mock/stripe-mock`) and make sure it is on PATH',
};

export const toolsBinDir = path.join(projectRoot, '.tools', 'bin');

function onPath(binary: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const p = found.stdout.trim();
  return found.status === 0 && p ? p : undefined;
}

/** Returns the tool's executable path, building it first if needed (with progress on stderr). */
export async function ensureGoTool(tool: GoTool, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const built = path.join(toolsBinDir, tool.binary);
  if (fs.existsSync(built)) return built;
  const fromPath = onPath(tool.binary);
  if (fromPath) return fromPath;

  if (!onPath('go')) {
    throw new Error(`${tool.binary} is not on PATH and Go is not installed to build it. Either ${tool.installHint}, or install Go 1.22+ and run this again.`);
  }
  fs.mkdirSync(toolsBinDir, { recursive: true });
  const target = `${tool.module}@${tool.version}`;
  log(`Building ${tool.binary} (${target}) into .tools/bin. This happens once and takes a few minutes.`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  ... still building ${tool.binary} (${Math.round((Date.now() - started) / 1000)} s)`), 20_000);
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('go', ['install', target], {
        env: { ...process.env, GOBIN: toolsBinDir, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0 || !fs.existsSync(built)) {
      throw new Error(`Building ${tool.binary} failed (go install ${target}, exit ${code}):\n${output.join('').slice(-4000)}\nCheck that the Go module proxy is reachable, or ${tool.installHint}.`);
    }
  } finally {
    clearInterval(ticker);
  }
  log(`Built ${tool.binary} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return built;
}
