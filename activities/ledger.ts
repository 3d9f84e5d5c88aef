import type { Pool } from 'pg';
import * as ledger from '../db/ledger';
import { asActivity } from './business-failure';

/**
 * The ledger's operations as activities. Each is idempotent by its key, so Temporal's retries are
 * safe. Times cross the activity boundary as ISO strings; money as bigint.
 */
export function createLedgerActivities(pool: Pool) {
  return {
    mintCredits: (req: Omit<ledger.MintRequest, 'expiresAt'> & { expiresAt?: string | null }) =>
      asActivity(() => ledger.mint(pool, { ...req, expiresAt: req.expiresAt ? new Date(req.expiresAt) : null })),
    transferCredits: (req: ledger.TransferRequest) => asActivity(() => ledger.transfer(pool, req)),
    redeemUsage: (req: Omit<ledger.RedeemUsageRequest, 'usageAt'> & { usageAt?: string }) =>
      asActivity(() => ledger.redeemUsage(pool, { ...req, usageAt: req.usageAt ? new Date(req.usageAt) : undefined })),
    burnCredits: (req: ledger.BurnRequest) => asActivity(() => ledger.burn(pool, req)),
    reserveHold: (req: ledger.ReserveHoldRequest) => asActivity(() => ledger.reserveHold(pool, req)),
    finalizeHold: (req: { cooperativeId: string; holdId: string; amount: bigint }) =>
      asActivity(() => ledger.resolveHold(pool, req.cooperativeId, req.holdId, { kind: 'finalize', amount: req.amount })),
    releaseHold: (req: { cooperativeId: string; holdId: string }) => asActivity(() => ledger.resolveHold(pool, req.cooperativeId, req.holdId, { kind: 'release' })),
    expireDueHolds: (req: { cooperativeId: string; asOf: string }) => asActivity(() => ledger.expireDueHolds(pool, req.cooperativeId, new Date(req.asOf))),
    stakeCredits: (req: ledger.StakeRequest) => asActivity(() => ledger.stake(pool, req)),
    unstakeCredits: (req: ledger.UnstakeRequest) => asActivity(() => ledger.unstake(pool, req)),
    correctTransaction: (req: ledger.CorrectionRequest) => asActivity(() => ledger.correct(pool, req)),
    refundClawback: (req: ledger.RefundClawbackRequest) => asActivity(() => ledger.refundClawback(pool, req)),
    distributeRevenue: (req: ledger.RevenueDistributionRequest) => asActivity(() => ledger.distributeRevenue(pool, req)),
    expireDueLots: (req: { cooperativeId: string; asOf: string }) => asActivity(() => ledger.expireDueLots(pool, req.cooperativeId, new Date(req.asOf))),
    ledgerIntegrityReport: (req: { cooperativeId?: string }) => ledger.integrityReport(pool, req.cooperativeId),
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
