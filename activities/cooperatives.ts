import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { activateCooperative, insertCooperative, openCooperativeLedger } from '../db/cooperatives';
import type { Cooperative } from '../domain/cooperative';

export function createCooperativeActivities(pool: Pool) {
  return {
    /** Idempotent by slug: a retry or a repeated workflow finds the row it (or a twin) wrote. */
    async createCooperative(input: { id: string; slug: string; name: string }): Promise<Cooperative> {
      const cooperative = await insertCooperative(pool, input);
      if (cooperative.name !== input.name) {
        throw ApplicationFailure.create({
          type: 'CONFLICT',
          nonRetryable: true,
          message: `cooperative '${input.slug}' already exists with the name '${cooperative.name}'`,
        });
      }
      return cooperative;
    },

    /** Opens the chart of accounts and seeds the V1 rate card (both idempotent). */
    openCooperativeLedger: (cooperativeId: string): Promise<void> => openCooperativeLedger(pool, cooperativeId),

    async activateCooperative(id: string): Promise<Cooperative> {
      return activateCooperative(pool, id);
    },
  };
}

export type CooperativeActivities = ReturnType<typeof createCooperativeActivities>;
