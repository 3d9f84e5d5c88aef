import { allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { StakingActivities } from '../activities/staking';
import { BusinessError } from '../domain/errors';
import { releaseAt, type StakingReleasedBy, type StakingReleaseKind } from '../domain/staking';
import { refuseOnBusinessError } from './business-refusal';
import { deadline } from './deadline';
import { BusinessStatus, CooperativeId, MemberId } from './search-attributes';

export interface StakeInput {
  positionId: string;
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  /** The position's unlock instant (ISO), as stored with it. */
  unlocksAt: string;
  autoRelease: boolean;
  earlyExitPenaltyBasisPoints: number | null;
}

/** `locked` until the unlock instant, then `unlocked` (waiting for the member, unless it auto-releases), then `released`. */
export type StakePhase = 'locked' | 'unlocked' | 'released';

export interface StakeState {
  status: StakePhase;
  unlocksAt: string;
  autoRelease: boolean;
  releasedBy?: StakingReleasedBy;
  releaseKind?: StakingReleaseKind;
  releasedAt?: string;
  transactionId?: string;
}

export interface UnstakeInput {
  /** Who asks: the member's subject. */
  actor: string;
  /** Leave before the unlock instant, forfeiting the term's penalty (only where the term allows it). */
  earlyExit?: boolean;
}

export const unstakePosition = defineUpdate<StakeState, [UnstakeInput]>('unstake');
export const stakeState = defineQuery<StakeState>('state');

const { releaseStake } = proxyActivities<StakingActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '1 minute' } });

/**
 * A staking position (`stake:<positionId>`): a durable timer holds it until its unlock instant; then
 * it comes back by itself (auto-release) or waits for its member. The member's unstake is an Update,
 * refused before the unlock instant by its validator (so a refusal leaves no trace), unless the term
 * allows an early exit and the member asks for one. A release runs once in the workflow (whoever comes
 * second joins it) and once in the ledger (the position's release key), so the member racing the
 * auto-release returns the credits once. The lock is judged on this workflow's clock, which also
 * dates the release.
 */
export async function stake(input: StakeInput): Promise<StakeState> {
  const unlocksAt = new Date(input.unlocksAt);
  const state: StakeState = { status: 'locked', unlocksAt: input.unlocksAt, autoRelease: input.autoRelease };
  let releasing: Promise<void> | undefined;
  setHandler(stakeState, () => state);
  upsertSearchAttributes([
    { key: CooperativeId, value: input.cooperativeId },
    { key: MemberId, value: input.memberId },
    { key: BusinessStatus, value: state.status },
  ]);

  const release = (releasedBy: StakingReleasedBy, earlyExit: boolean): Promise<void> => {
    releasing ??= (async () => {
      const at = new Date().toISOString();
      const released = await releaseStake({ cooperativeId: input.cooperativeId, positionId: input.positionId, at, earlyExit, releasedBy });
      Object.assign(state, { status: 'released', releasedBy, releaseKind: released.kind, releasedAt: at, transactionId: released.transactionId });
      upsertSearchAttributes([{ key: BusinessStatus, value: state.status }]);
    })().catch((err: unknown) => {
      // Refused by the ledger: nothing was released, and a later ask may try again.
      releasing = undefined;
      throw err;
    });
    return releasing;
  };

  setHandler(
    unstakePosition,
    async ({ earlyExit }) => {
      await release('member', earlyExit === true);
      return state;
    },
    {
      validator: (ask) =>
        refuseOnBusinessError(() => {
          if (!ask?.actor) throw new BusinessError('VALIDATION_ERROR', 'an unstake names who asks for it');
          // A release under way or done answers the ask: the credits come back once either way.
          if (releasing) return;
          releaseAt({ amount: input.amount, unlocksAt, earlyExitPenaltyBasisPoints: input.earlyExitPenaltyBasisPoints }, new Date(), ask.earlyExit === true);
        }),
    },
  );

  // The durable timer, until the unlock instant, unless an early exit releases the position first (one
  // the ledger refuses leaves it locked, and the timer goes on).
  const unlock = deadline(unlocksAt.getTime() - Date.now());
  while (state.status !== 'released' && !unlock.passed) {
    await unlock.until(() => releasing !== undefined);
    await releasing?.catch(() => undefined);
  }
  if (state.status !== 'released') {
    state.status = 'unlocked';
    upsertSearchAttributes([{ key: BusinessStatus, value: state.status }]);
    if (input.autoRelease) await release('auto_release', false);
    else await condition(() => state.status === 'released');
  }
  await condition(allHandlersFinished);
  return state;
}
