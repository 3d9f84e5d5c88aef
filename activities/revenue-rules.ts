import type { Pool } from 'pg';
import { applyRuleTransition, type RuleTransition } from '../db/revenue-rules';
import { asActivity } from './business-failure';

export function createRevenueRuleActivities(pool: Pool) {
  return {
    /** Idempotent by the transition's step key. */
    applyRuleTransition: (t: RuleTransition) => asActivity(() => applyRuleTransition(pool, t)),
  };
}

export type RevenueRuleActivities = ReturnType<typeof createRevenueRuleActivities>;
