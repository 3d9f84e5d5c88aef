import type { LotSource } from './ledger-types';
import type { LotCategory } from './lots';
import type { StakingPosition } from './staking';

/** One lot of a wallet as the balance read shows it. */
export interface LotView {
  id: string;
  source: LotSource;
  sourceId: string;
  category: LotCategory;
  priority: number;
  expiresAt: string | null;
  original: bigint;
  available: bigint;
  reserved: bigint;
  expired: boolean;
}

/** A member's credits, in µCLOUD. */
export interface MemberBalance {
  memberId: string;
  /** Spendable now: available in lots that have not expired. */
  available: bigint;
  /** Reserved by open holds. */
  held: bigint;
  /** Past expiry, waiting for the expiry run to retire them; not spendable. */
  expiring: bigint;
  /** The wallet's ledger balance: available + held + expiring. */
  wallet: bigint;
  /** In the staking account: the sum of `positions`. */
  staked: bigint;
  /** The active staking positions, oldest first: the staked part, position by position. */
  positions: StakingPosition[];
  /** Credits spent and then refunded, owed by the member (in µCLOUD). */
  debt: bigint;
  /** The wallet's open lots in consumption order: the first ones only (db/ledger/reads.ts BALANCE_LOTS). */
  lots: LotView[];
  /** How many open lots the wallet has in all. */
  lotCount: number;
}
