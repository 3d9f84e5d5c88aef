import type { Pool } from 'pg';
import * as ledger from '../db/ledger';
import { asActivity } from './business-failure';

/**
 * The ledger operations workflows call, as activities. Each is idempotent by its key, so Temporal's
 * retries are safe. Operations the API runs directly (transfers, usage, holds) are not registered
 * until a workflow needs them.
 */
export function createLedgerActivities(pool: Pool) {
  return {
    // Times cross the activity boundary as ISO strings.
    mintCredits: (req: Omit<ledger.MintRequest, 'expiresAt'> & { expiresAt?: string | null }) =>
      asActivity(() => ledger.mint(pool, { ...req, expiresAt: req.expiresAt ? new Date(req.expiresAt) : null })),
    refundClawback: (req: ledger.RefundClawbackRequest) => asActivity(() => ledger.refundClawback(pool, req)),
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
