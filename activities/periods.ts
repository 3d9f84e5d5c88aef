import type { Pool } from 'pg';
import { beginClose, completeClose } from '../db/accounting-periods';
import { periodBounds } from '../domain/accounting-periods';
import { BusinessError } from '../domain/errors';
import { asActivity } from './business-failure';

/** The period close workflow's activities. */
export function createPeriodActivities(pool: Pool) {
  return {
    /**
     * Records that the period is closing and returns its boundary and status. Refused before the period
     * has ended: a close is for a past period, so nothing posted from now on can belong to it.
     */
    beginPeriodClose(input: { cooperativeId: string; period: string; requestedBy: string }): Promise<{ endsAt: string; status: string }> {
      return asActivity(async () => {
        const { end } = periodBounds(input.period);
        if (end.getTime() > Date.now()) throw new BusinessError('CONFLICT', `period ${input.period} has not ended: it can be closed from ${end.toISOString()} on`);
        const period = await beginClose(pool, input.cooperativeId, input.period, input.requestedBy);
        return { endsAt: period.endsAt, status: period.status };
      });
    },

    /** Closes the period if every stream is sampled to its end; otherwise says why not. */
    async completePeriodClose(input: { cooperativeId: string; period: string }): Promise<{ closed: boolean; closedAt: string | null; reason: string | null }> {
      const outcome = await completeClose(pool, input.cooperativeId, input.period);
      return outcome.closed ? { closed: true, closedAt: outcome.period.closedAt, reason: null } : { closed: false, closedAt: null, reason: outcome.reason };
    },
  };
}

export type PeriodActivities = ReturnType<typeof createPeriodActivities>;
