// Hardhat only runs Superfluid's deployment script against a running chain (scripts/superfluid-deployment.ts
// passes its URL); this project compiles no contracts with it.
require('@nomiclabs/hardhat-ethers');

module.exports = {
  networks: {
    target: { url: process.env.CHAIN_DEPLOY_RPC_URL ?? 'http://127.0.0.1:8545', timeout: 120_000 },
  },
};
