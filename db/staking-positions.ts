import type { Pool } from 'pg';
import type { StakingPosition, StakingPositionStatus, StakingReleaseKind } from '../domain/staking';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { inTenantTransaction, read, type Read } from './transaction';

interface Row {
  id: string;
  cooperative_id: string;
  member_id: string;
  amount: bigint;
  term_days: number;
  multiplier_bp: number;
  auto_release: boolean;
  early_exit_penalty_bp: number | null;
  staked_at: Date;
  unlocks_at: Date;
  status: StakingPositionStatus;
  released_at: Date | null;
  release_kind: StakingReleaseKind | null;
  penalty: bigint | null;
  revenue_earned: string;
  micros: string;
}

const SELECT = `
  SELECT p.id, p.cooperative_id, p.member_id, p.amount, p.term_days, p.multiplier_bp, p.auto_release, p.early_exit_penalty_bp, p.staked_at, p.unlocks_at,
         p.status, p.released_at, p.release_kind, p.penalty, ${creationPosition.micros('p.created_at')} AS micros,
         -- A distribution corrected afterwards paid nothing in the end.
         COALESCE((SELECT sum(s.amount) FROM staking_revenue_shares s WHERE s.position_id = p.id
                      AND NOT EXISTS (SELECT 1 FROM transactions r WHERE r.reverses_transaction_id = s.transaction_id)), 0)::text AS revenue_earned
    FROM staking_positions p`;

function toPosition(r: Row): StakingPosition {
  return {
    id: r.id, cooperativeId: r.cooperative_id, memberId: r.member_id, amount: r.amount, termDays: r.term_days, multiplierBasisPoints: r.multiplier_bp,
    autoRelease: r.auto_release, earlyExitPenaltyBasisPoints: r.early_exit_penalty_bp, stakedAt: r.staked_at.toISOString(), unlocksAt: r.unlocks_at.toISOString(),
    status: r.status, releasedAt: r.released_at?.toISOString() ?? null, releaseKind: r.release_kind, penalty: r.penalty, revenueEarned: BigInt(r.revenue_earned),
  };
}

export function findPosition(pool: Pool, cooperativeId: string, positionId: string): Promise<StakingPosition | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(`${SELECT} WHERE p.id = $1`, [positionId]);
    return rows[0] && toPosition(rows[0]);
  });
}

/** A member's active positions, oldest first: the staked part of their balance, position by position. */
export const activePositions = (memberId: string): Read<StakingPosition[]> =>
  read('active_staking_positions', `${SELECT} WHERE p.member_id = $1 AND p.status = 'active' ORDER BY p.staked_at, p.id`, [memberId], (rows: Row[]) => rows.map(toPosition));

/** Positions of the cooperative (or of one member), newest first, by status, paginated by cursor (db/cursor.ts). */
export function listPositions(
  pool: Pool,
  cooperativeId: string,
  filter: { memberId?: string; status?: StakingPositionStatus },
  options: { limit: number; cursor?: string },
): Promise<Page<StakingPosition>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(
      `${SELECT}
        WHERE ($1::uuid IS NULL OR p.member_id = $1) AND ($2::text IS NULL OR p.status = $2)
          AND ${creationPosition.after('p.created_at', 'p.id', '$4', '$5')}
        ORDER BY p.created_at DESC, p.id DESC LIMIT $3`,
      [filter.memberId ?? null, filter.status ?? null, options.limit + 1, after?.micros ?? null, after?.id ?? null],
    );
    return toPage(rows, options.limit, (r) => [r.micros, r.id], toPosition);
  });
}
