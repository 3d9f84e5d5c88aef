import type { Pool } from 'pg';
import { applyRuleTransition, type RuleTransition } from '../db/revenue-rules';

export function createRevenueRuleActivities(pool: Pool) {
  return {
    /** Idempotent by the transition's step key. */
    applyRuleTransition: (t: RuleTransition) => applyRuleTransition(pool, t),
  };
}

export type RevenueRuleActivities = ReturnType<typeof createRevenueRuleActivities>;
