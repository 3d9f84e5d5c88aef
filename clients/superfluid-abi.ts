import { keccak256, parseAbi, toHex } from 'viem';

/**
 * The few Superfluid functions and events this project calls, as human-readable fragments: viem types
 * every call from them, and the application needs no Superfluid package at run time (the contracts'
 * own artifacts live in chain/, installed only for the embedded chain). The chain integration test
 * holds each fragment equal to the artifact of @superfluid-finance/ethereum-contracts 1.12.0.
 */

/** CFAv1Forwarder: flows read and changed by token, sender and receiver. */
export const cfaV1ForwarderAbi = parseAbi([
  'function getFlowInfo(address token, address sender, address receiver) view returns (uint256 lastUpdated, int96 flowrate, uint256 deposit, uint256 owedDeposit)',
  'function getFlowrate(address token, address sender, address receiver) view returns (int96 flowrate)',
  'function getBufferAmountByFlowrate(address token, int96 flowrate) view returns (uint256 bufferAmount)',
  'function createFlow(address token, address sender, address receiver, int96 flowrate, bytes userData) returns (bool)',
  'function updateFlow(address token, address sender, address receiver, int96 flowrate, bytes userData) returns (bool)',
  'function deleteFlow(address token, address sender, address receiver, bytes userData) returns (bool)',
]);

/** ISuperToken: balances (realtime at a given timestamp), its host (is it Superfluid's?), and upgrading from the underlying ERC-20. */
export const superTokenAbi = parseAbi([
  'function balanceOf(address account) view returns (uint256 balance)',
  'function realtimeBalanceOf(address account, uint256 timestamp) view returns (int256 availableBalance, uint256 deposit, uint256 owedDeposit)',
  'function getUnderlyingToken() view returns (address tokenAddr)',
  'function getHost() view returns (address host)',
  'function upgrade(uint256 amount)',
]);

/** The test super token's underlying ERC-20 on the embedded chain (fDAI): an open faucet, and the approval upgrading needs. */
export const testTokenAbi = parseAbi(['function mint(address account, uint256 amount) returns (bool)', 'function approve(address spender, uint256 amount) returns (bool)']);

/**
 * The constant flow agreement (CFAv1) emits FlowUpdated for every create, update and delete, whoever
 * made it (forwarder, host batch call, super app); its address comes from the host.
 */
export const cfaV1EventsAbi = parseAbi([
  'event FlowUpdated(address indexed token, address indexed sender, address indexed receiver, int96 flowRate, int256 totalSenderFlowRate, int256 totalReceiverFlowRate, bytes userData)',
]);

export const superfluidHostAbi = parseAbi(['function getAgreementClass(bytes32 agreementType) view returns (address agreementClass)']);

/** The agreement type the host registers CFAv1 under (ConstantFlowAgreementV1.agreementType()). */
export const CFA_V1_AGREEMENT_TYPE = keccak256(toHex('org.superfluid-finance.agreements.ConstantFlowAgreement.v1'));
