// Deploys the Superfluid framework and its test tokens with Superfluid's own development script
// (the one its SDK's tests use), then writes the addresses this project needs as JSON to
// SUPERFLUID_DEPLOYMENT_FILE. Run by scripts/superfluid-deployment.ts as
// `hardhat run --no-compile --network target deploy-superfluid.js`.
const fs = require('node:fs');
const { ethers, network } = require('hardhat');
const { deployContractsAndToken } = require('@superfluid-finance/ethereum-contracts/dev-scripts/deploy-contracts-and-token');

async function main() {
  const file = process.env.SUPERFLUID_DEPLOYMENT_FILE;
  if (!file) throw new Error('SUPERFLUID_DEPLOYMENT_FILE is not set');
  const { deployer, tokenDeploymentOutput } = await deployContractsAndToken();
  const framework = await deployer.getFramework();
  const wrapper = tokenDeploymentOutput.wrapperSuperTokenData;
  const { chainId } = await ethers.provider.getNetwork();
  const deployment = {
    chainId,
    blockNumber: await ethers.provider.getBlockNumber(),
    network: network.name,
    resolver: framework.resolver,
    host: framework.host,
    governance: framework.governance,
    cfaV1: framework.cfa,
    cfaV1Forwarder: framework.cfaV1Forwarder,
    superTokenFactory: framework.superTokenFactory,
    // A wrapper super token over a mintable ERC-20 (TestToken.mint is open to anyone): what tests stream.
    testSuperToken: {
      address: wrapper.wrapperSuperTokenAddress,
      symbol: wrapper.wrapperSuperTokenSymbol,
      underlying: wrapper.wrapperSuperTokenUnderlyingToken.underlyingTokenAddress,
      underlyingSymbol: wrapper.wrapperSuperTokenUnderlyingToken.underlyingTokenSymbol,
    },
  };
  fs.writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
