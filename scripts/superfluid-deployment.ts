import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, http, isAddress, type Address } from 'viem';
import { z } from 'zod';
import { chainToolsDir, hardhatCli } from './chain-tools';

const address = z.string().refine(isAddress, 'must be an address').transform((v) => v as Address);

/** What the embedded chain's Superfluid deployment records in the state folder (`chain/superfluid.json`). */
export const SuperfluidDeploymentSchema = z.object({
  chainId: z.number().int(),
  /** The chain's height once the deployment was done. */
  blockNumber: z.number().int(),
  network: z.string(),
  resolver: address,
  host: address,
  governance: address,
  cfaV1: address,
  cfaV1Forwarder: address,
  superTokenFactory: address,
  /** A wrapper super token (fDAIx) over a test ERC-20 (fDAI) whose `mint` is open to anyone. */
  testSuperToken: z.object({ address, symbol: z.string(), underlying: address, underlyingSymbol: z.string() }),
});
export type SuperfluidDeployment = z.infer<typeof SuperfluidDeploymentSchema>;

export interface DeploymentOptions {
  rpcUrl: string;
  /** The record of the deployment on this chain. */
  file: string;
  logFile: string;
  log: (line: string) => void;
}

/**
 * Superfluid on the embedded chain, deployed once per state folder: the recorded deployment is reused
 * while its contracts are still on the chain (a restart that kept the state), and deployed again
 * when they are not (a new chain, or a state file that was lost or written before the deployment).
 */
export async function ensureSuperfluidDeployment(opts: DeploymentOptions): Promise<SuperfluidDeployment> {
  const recorded = readRecord(opts.file, opts.log);
  if (recorded && (await isOnChain(opts.rpcUrl, recorded))) {
    opts.log(`Superfluid is deployed on the chain (host ${recorded.host}; recorded in ${opts.file})`);
    return recorded;
  }
  if (recorded) opts.log('The recorded Superfluid deployment is not on this chain (a new chain, or its state was not kept): deploying again');
  try {
    return await deploy(opts);
  } catch (err) {
    // Seen rarely on a machine saturated by parallel test files: the script exits 1 part-way. A second run
    // deploys a complete framework beside the partial one (the record names only a complete one).
    opts.log(`${(err as Error).message}\nDeploying once more`);
    return deploy(opts);
  }
}

function readRecord(file: string, log: (line: string) => void): SuperfluidDeployment | undefined {
  if (!fs.existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    log(`${file} is not JSON (${(err as Error).message}): deploying again`);
    return undefined;
  }
  const parsed = SuperfluidDeploymentSchema.safeParse(json);
  if (!parsed.success) log(`${file} is not a deployment record this version reads (${parsed.error.issues[0]?.message}): deploying again`);
  return parsed.success ? parsed.data : undefined;
}

async function isOnChain(rpcUrl: string, deployment: SuperfluidDeployment): Promise<boolean> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  if ((await client.getChainId()) !== deployment.chainId) return false;
  const contracts = [deployment.resolver, deployment.host, deployment.cfaV1, deployment.cfaV1Forwarder, deployment.testSuperToken.address, deployment.testSuperToken.underlying];
  const codes = await Promise.all(contracts.map((a) => client.getCode({ address: a })));
  return codes.every((code) => code !== undefined && code !== '0x');
}

/** Runs Superfluid's own development deployment (chain/deploy-superfluid.js) with Hardhat against the chain. */
async function deploy(opts: DeploymentOptions): Promise<SuperfluidDeployment> {
  opts.log('Deploying the Superfluid framework and a test super token (once per state folder)...');
  const started = Date.now();
  const pending = `${opts.file}.pending`;
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  fs.rmSync(pending, { force: true });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  const ticker = setInterval(() => opts.log(`  ... still deploying Superfluid (${Math.round((Date.now() - started) / 1000)} s)`), 10_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [hardhatCli, 'run', '--no-compile', '--network', 'target', 'deploy-superfluid.js'], {
        cwd: chainToolsDir,
        env: { ...process.env, CHAIN_DEPLOY_RPC_URL: opts.rpcUrl, SUPERFLUID_DEPLOYMENT_FILE: pending, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true' },
        stdio: ['ignore', logFd, logFd],
      });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0 || !fs.existsSync(pending)) {
      const tail = fs.readFileSync(opts.logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
      throw new Error(`Deploying Superfluid failed (hardhat run deploy-superfluid.js in chain/, exit ${code}). See ${opts.logFile}; to start over, stop and delete the chain's state folder. Its last lines:\n${tail}`);
    }
  } finally {
    clearInterval(ticker);
    fs.closeSync(logFd);
  }
  const deployment = SuperfluidDeploymentSchema.parse(JSON.parse(fs.readFileSync(pending, 'utf8')));
  // Recorded only once complete: an interrupted deployment leaves no record and is redone.
  fs.renameSync(pending, opts.file);
  opts.log(
    `Deployed Superfluid in ${((Date.now() - started) / 1000).toFixed(1)} s: host ${deployment.host}, CFAv1Forwarder ${deployment.cfaV1Forwarder}, ` +
      `test super token ${deployment.testSuperToken.symbol} ${deployment.testSuperToken.address}`,
  );
  return deployment;
}
