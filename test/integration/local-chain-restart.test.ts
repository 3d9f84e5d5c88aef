import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, createWalletClient, http, parseAbi } from 'viem';
import { startAnvil } from '../../scripts/anvil';
import { ensureSuperfluidDeployment, type SuperfluidDeployment } from '../../scripts/superfluid-deployment';

/**
 * What `npm start` does with the chain across restarts, on an Anvil of this file's own with a state
 * folder: Superfluid is deployed once, a restart keeps the chain and reuses the deployment, and a
 * chain whose state was lost gets Superfluid deployed again.
 */
describe('the embedded chain across restarts', () => {
  const stateDir = path.join(process.env.TEST_STATE_DIR ?? '.state/test', 'local-chain-restart');
  const stateFile = path.join(stateDir, 'chain', 'anvil-state.json');
  const mintAbi = parseAbi(['function mint(address account, uint256 amount) returns (bool)', 'function balanceOf(address) view returns (uint256)']);
  const holder = '0x000000000000000000000000000000000000bEEF';

  async function start(lines: string[]): Promise<{ deployment: SuperfluidDeployment; rpcUrl: string; stop(): Promise<void> }> {
    const log = (line: string) => lines.push(line);
    const anvil = await startAnvil({ port: 0, stateFile, logFile: path.join(stateDir, 'logs', 'anvil.log'), log });
    try {
      const deployment = await ensureSuperfluidDeployment({ rpcUrl: anvil.rpcUrl, file: path.join(stateDir, 'chain', 'superfluid.json'), logFile: path.join(stateDir, 'logs', 'deploy.log'), log });
      return { deployment, rpcUrl: anvil.rpcUrl, stop: anvil.stop };
    } catch (err) {
      await anvil.stop();
      throw err;
    }
  }

  it('deploys once, keeps the chain over a restart, and deploys again on a chain that lost its state', async () => {
    fs.rmSync(stateDir, { recursive: true, force: true });
    const first: string[] = [];
    const cold = await start(first);
    const token = cold.deployment.testSuperToken.underlying;
    try {
      // Something to find after the restart: test tokens minted by one of Anvil's development accounts.
      const wallet = createWalletClient({ transport: http(cold.rpcUrl) });
      const [account] = await wallet.getAddresses();
      const hash = await wallet.writeContract({ account: account!, chain: null, address: token, abi: mintAbi, functionName: 'mint', args: [holder, 42n] });
      await createPublicClient({ transport: http(cold.rpcUrl) }).waitForTransactionReceipt({ hash, pollingInterval: 20 });
    } finally {
      await cold.stop();
    }
    expect(first.some((l) => l.startsWith('Deployed Superfluid'))).toBe(true);
    expect(fs.existsSync(stateFile)).toBe(true);

    const second: string[] = [];
    const warm = await start(second);
    try {
      expect(second.some((l) => l.startsWith('Superfluid is deployed on the chain'))).toBe(true);
      expect(warm.deployment).toEqual(cold.deployment);
      const client = createPublicClient({ transport: http(warm.rpcUrl) });
      expect(await client.readContract({ address: token, abi: mintAbi, functionName: 'balanceOf', args: [holder] })).toBe(42n);
    } finally {
      await warm.stop();
    }

    fs.rmSync(stateFile);
    const third: string[] = [];
    const fresh = await start(third);
    try {
      expect(third.some((l) => l.startsWith('The recorded Superfluid deployment is not on this chain'))).toBe(true);
      expect(third.some((l) => l.startsWith('Deployed Superfluid'))).toBe(true);
      const client = createPublicClient({ transport: http(fresh.rpcUrl) });
      expect(await client.getCode({ address: fresh.deployment.host })).toMatch(/^0x[0-9a-f]{2,}/);
    } finally {
      await fresh.stop();
    }
  }, 120_000);
});
