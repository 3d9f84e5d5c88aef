import type { Pool } from 'pg';
import { unstake } from '../db/ledger';
import type { StakingReleasedBy, StakingReleaseKind } from '../domain/staking';
import { asActivity } from './business-failure';

export interface ReleaseStakeRequest {
  cooperativeId: string;
  positionId: string;
  /** The workflow's time of the release (ISO): the lock is the workflow's to judge. */
  at: string;
  earlyExit: boolean;
  releasedBy: StakingReleasedBy;
}

export interface ReleasedStake {
  transactionId: string;
  kind: StakingReleaseKind;
}

export function createStakingActivities(pool: Pool) {
  return {
    /** Idempotent by the position (its release key): a retry, or the member and the auto-release both, release once. */
    releaseStake: (req: ReleaseStakeRequest): Promise<ReleasedStake> =>
      asActivity(async () => {
        const { transaction } = await unstake(pool, { ...req, at: new Date(req.at) });
        return { transactionId: transaction.id, kind: transaction.metadata.kind as StakingReleaseKind };
      }),
  };
}

export type StakingActivities = ReturnType<typeof createStakingActivities>;
