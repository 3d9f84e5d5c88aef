import type { Pool } from 'pg';
import type Stripe from 'stripe';
import type { Config } from '../config/config';
import { createCooperativeActivities } from './cooperatives';
import { createDeadLetterActivities, deadLetterHandlers } from './dead-letter';
import { createLedgerActivities } from './ledger';
import { createGovernanceActivities } from './governance';
import { createPaymentActivities } from './payments';
import { createRevenueRuleActivities } from './revenue-rules';
import { createScheduledJobActivities } from './scheduled-jobs';

export interface ActivityDependencies {
  pool: Pool;
  stripe: Stripe;
  operations: Config['operations'];
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const ledger = createLedgerActivities(deps.pool);
  return {
    ...createCooperativeActivities(deps.pool),
    ...ledger,
    ...createPaymentActivities(deps.pool, deps.stripe),
    ...createRevenueRuleActivities(deps.pool),
    ...createGovernanceActivities(deps.pool),
    ...createScheduledJobActivities({ pool: deps.pool, eventRetentionDays: deps.operations.eventRetentionDays }),
    ...createDeadLetterActivities(deps.pool, deadLetterHandlers({ ledger })),
  };
}

export type Activities = ReturnType<typeof createActivities>;
