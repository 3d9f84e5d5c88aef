// The ledger's operations and reads: the one door activities and the API go through.
export { mint, type MintRequest } from './ops/mint';
export { transfer, type TransferRequest } from './ops/transfer';
export { redeemUsage, redeemUsageBatch, type RedeemUsageRequest, type UsageOutcome, type UsageRecord } from './ops/redeem-usage';
export { burn, type BurnRequest } from './ops/burn';
export { reserveHold, resolveHold, expireDueHolds, type HoldOutcome, type ReserveHoldRequest } from './ops/holds';
export { stake, unstake, type StakeRequest, type StakeResult, type UnstakeRequest } from './ops/staking';
export { grantBatch, type GrantBatchRequest, type GrantBatchResult } from './ops/campaign-grants';
export { applyCorrection, correct, type CorrectionRequest } from './ops/correction';
export { refundClawback, type RefundClawbackRequest } from './ops/refund-clawback';
export { distributeRevenue, type RevenueDistributionRequest } from './ops/revenue-distribution';
export { expireDueLots } from './ops/expire-lots';
export { postStreamSample, postStreamSamples, type PostedSample, type StreamSamplePlan } from './ops/stream-sample';
export { memberBalance, memberTransactions } from './reads';
export { integrityReport, INTEGRITY_CHECKS, type IntegrityCheck, type IntegrityFinding, type IntegrityReport } from './integrity';
export { settleIn, settleOut, reverseSettlement, settlementKeys } from './ops/settlement';
