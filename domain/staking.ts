/** A staking position is active until its credits are unstaked back to the wallet. */
export const STAKING_POSITION_STATUSES = ['active', 'released'] as const;
export type StakingPositionStatus = (typeof STAKING_POSITION_STATUSES)[number];
