import type { Pool } from 'pg';
import { createCooperativeActivities } from './cooperatives';
import { createLedgerActivities } from './ledger';

export interface ActivityDependencies {
  pool: Pool;
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createCooperativeActivities(deps.pool),
    ...createLedgerActivities(deps.pool),
  };
}

export type Activities = ReturnType<typeof createActivities>;
