import type { Pool, PoolClient } from 'pg';
import { DEFAULT_STAKING_TERMS, type StakingTerm } from '../domain/staking';
import { toJsonParam } from './json';
import { recordEvent } from './outbox';
import { inTenantTransaction } from './transaction';

export interface StakingTerms {
  terms: StakingTerm[];
  /** True when the cooperative has set none, so the defaults apply. */
  isDefault: boolean;
}

type Row = { days: number; multiplier_bp: number; auto_release: boolean; early_exit_penalty_bp: number | null };

/** The cooperative's terms, shortest first, or the defaults when it has set none. */
export async function readStakingTerms(client: PoolClient): Promise<StakingTerms> {
  const { rows } = await client.query<Row>('SELECT days, multiplier_bp, auto_release, early_exit_penalty_bp FROM staking_terms ORDER BY days');
  if (rows.length === 0) return { terms: [...DEFAULT_STAKING_TERMS], isDefault: true };
  return {
    terms: rows.map((r) => ({ days: r.days, multiplierBasisPoints: r.multiplier_bp, autoRelease: r.auto_release, earlyExitPenaltyBasisPoints: r.early_exit_penalty_bp })),
    isDefault: false,
  };
}

export function stakingTerms(pool: Pool, cooperativeId: string): Promise<StakingTerms> {
  return inTenantTransaction(pool, cooperativeId, readStakingTerms);
}

/**
 * Replaces the cooperative's terms with `terms` (already validated: domain/staking.ts) and records
 * who set them. Positions keep the term they were staked under.
 */
export function replaceStakingTerms(pool: Pool, cooperativeId: string, terms: readonly StakingTerm[], actor: string): Promise<StakingTerms> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    // Replacements of one cooperative's terms queue here, so each sees the set the previous one left.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('staking-terms:' || $1))`, [cooperativeId]);
    await client.query('DELETE FROM staking_terms');
    await client.query(
      `INSERT INTO staking_terms (cooperative_id, days, multiplier_bp, auto_release, early_exit_penalty_bp, updated_by)
       SELECT $1, x.days, x.multiplier_bp, x.auto_release, x.early_exit_penalty_bp, $3
         FROM jsonb_to_recordset($2::jsonb) AS x(days integer, multiplier_bp integer, auto_release boolean, early_exit_penalty_bp integer)`,
      [cooperativeId, toJsonParam(terms.map((t) => ({ days: t.days, multiplier_bp: t.multiplierBasisPoints, auto_release: t.autoRelease, early_exit_penalty_bp: t.earlyExitPenaltyBasisPoints }))), actor],
    );
    await recordEvent(client, cooperativeId, { type: 'staking_terms.updated', aggregateId: cooperativeId, payload: { terms, actor } });
    return readStakingTerms(client);
  });
}
