import type { Pool } from 'pg';
import { closeCorrection } from '../db/corrections';
import { applyCorrection } from '../db/ledger';
import type { CorrectionStatus } from '../domain/corrections';
import { asActivity } from './business-failure';

export function createCorrectionActivities(pool: Pool) {
  return {
    /** Idempotent by the correction's own key: applied once, with the second operator who approved it. */
    applyApprovedCorrection: (req: { cooperativeId: string; correctionId: string; approvedBy: string }): Promise<{ transactionId: string }> =>
      asActivity(async () => ({ transactionId: (await applyCorrection(pool, req.cooperativeId, req.correctionId, req.approvedBy)).transaction.id })),
    /** A rejection (with who and why) or an expiry; a repeat of the same close changes nothing. */
    closeCorrection: (req: { cooperativeId: string; correctionId: string; status: Extract<CorrectionStatus, 'rejected' | 'expired'>; decidedBy: string | null; reason: string | null }) =>
      asActivity(async () => {
        await closeCorrection(pool, req);
      }),
  };
}

export type CorrectionActivities = ReturnType<typeof createCorrectionActivities>;
