import { parseAbi, type Address } from 'viem';
import { nodeSignedWalletClient } from '../../clients/chain';
import { freshAccount, mined, type TestChain } from './chain';

/**
 * A Chainlink-style aggregator the tests deploy (contracts/MockAggregator.sol): rounds they add with the
 * answer and the time it was updated. The bytecode is the source compiled by the solc in chain/
 * (`chain/node_modules/.bin/solcjs --optimize --bin --abi test/harness/contracts/MockAggregator.sol`, 0.4.26),
 * so no compiler runs during tests.
 */
const bytecode: `0x${string}` = '0x608060405234801561001057600080fd5b5060405160208061036d83398101604052516000805460ff90921660ff19909216919091179055610327806100466000396000f30060806040526004361061006c5763ffffffff7c0100000000000000000000000000000000000000000000000000000000600035041663087917a48114610071578063313ce5671461008e578063668a0f02146100b95780639a6fc8f5146100ed578063feaf968c14610150575b600080fd5b34801561007d57600080fd5b5061008c600435602435610165565b005b34801561009a57600080fd5b506100a36101c2565b6040805160ff9092168252519081900360200190f35b3480156100c557600080fd5b506100ce6101cb565b6040805169ffffffffffffffffffff9092168252519081900360200190f35b3480156100f957600080fd5b5061011169ffffffffffffffffffff600435166101e2565b6040805169ffffffffffffffffffff96871681526020810195909552848101939093526060840191909152909216608082015290519081900360a00190f35b34801561015c57600080fd5b506101116102c1565b6000805469ffffffffffffffffffff61010080830482166001908101831682026affffffffffffffffffff001990941693909317808555819004821684526020928352604080852096909655835404168252600290529190912055565b60005460ff1681565b600054610100900469ffffffffffffffffffff1681565b6000806000806000808669ffffffffffffffffffff1611801561021c575060005469ffffffffffffffffffff610100909104811690871611155b151561028957604080517f08c379a000000000000000000000000000000000000000000000000000000000815260206004820152600f60248201527f4e6f20646174612070726573656e740000000000000000000000000000000000604482015290519081900360640190fd5b5050505069ffffffffffffffffffff821660009081526001602090815260408083205460029092529091205492939092915081908490565b60008060008060006102ea600060019054906101000a900469ffffffffffffffffffff166101e2565b9450945094509450945090919293945600a165627a7a723058202cfab71ff0848fd6c461538e39accc0a45667c637214c0c4678374bb095769850029';

export const mockAggregatorAbi = parseAbi([
  'constructor(uint8 decimals)',
  'function addRound(int256 answer, uint256 updatedAt)',
  'function decimals() view returns (uint8)',
  'function latestRound() view returns (uint80)',
]);

export interface MockAggregator {
  address: Address;
  /** Adds a round: `answer` in the feed's decimals, updated at `updatedAt` (Unix seconds). */
  addRound(answer: bigint, updatedAt: bigint): Promise<void>;
}

export async function deployMockAggregator(chain: TestChain, decimals: number): Promise<MockAggregator> {
  const wallet = nodeSignedWalletClient(chain.client, await freshAccount(chain));
  const hash = await wallet.deployContract({ abi: mockAggregatorAbi, bytecode, args: [decimals] });
  const receipt = await chain.client.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  const address = receipt.contractAddress!;
  return {
    address,
    addRound: async (answer, updatedAt) => {
      await mined(chain, wallet.writeContract({ address, abi: mockAggregatorAbi, functionName: 'addRound', args: [answer, updatedAt] }));
    },
  };
}
