import { allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { CorrectionActivities } from '../activities/corrections';
import { checkCorrectionDecision, DEFAULT_CORRECTION_APPROVAL_WINDOW_MS, type CorrectionDecision, type CorrectionStatus } from '../domain/corrections';
import { BusinessError } from '../domain/errors';
import { refuseOnBusinessError } from './business-refusal';
import { deadline } from './deadline';
import { oneStepAtATime } from './one-step-at-a-time';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface CorrectionInput {
  correctionId: string;
  cooperativeId: string;
  proposedBy: string;
  /** How long a second operator has to approve it (default 7 days); then it expires unapplied. */
  approvalWindowMs?: number;
}

export interface CorrectionState {
  status: CorrectionStatus;
  expiresAt: string;
  decidedBy?: string;
  transactionId?: string;
}

export interface CorrectionDecisionInput {
  /** The deciding operator's subject. */
  actor: string;
  /** Why it is rejected (required for a rejection). */
  reason?: string;
}

export const approveCorrection = defineUpdate<CorrectionState, [CorrectionDecisionInput]>('approve');
export const rejectCorrection = defineUpdate<CorrectionState, [CorrectionDecisionInput]>('reject');
export const correctionState = defineQuery<CorrectionState>('state');

const { applyApprovedCorrection, closeCorrection } = proxyActivities<CorrectionActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '1 minute' } });

/**
 * Four eyes on a correction above the threshold (`correction:<id>`): it waits for a second operator to
 * approve it (an Update; its validator refuses the proposer) and is then applied, or for a rejection
 * with a reason; nobody deciding within the window expires it. Decisions are taken one at a time,
 * each recorded with who took it.
 */
export async function correction(input: CorrectionInput): Promise<CorrectionState> {
  const state: CorrectionState = { status: 'proposed', expiresAt: new Date(Date.now() + (input.approvalWindowMs ?? DEFAULT_CORRECTION_APPROVAL_WINDOW_MS)).toISOString() };
  // Set while a decision or the expiry is being recorded: every other decision is refused meanwhile.
  const steps = oneStepAtATime();
  setHandler(correctionState, () => state);
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: state.status }]);

  const exclusively = async (step: () => Promise<void>) => {
    await steps.run(step);
    upsertSearchAttributes([{ key: BusinessStatus, value: state.status }]);
  };

  const validate = (decision: CorrectionDecision) => (by: CorrectionDecisionInput) =>
    refuseOnBusinessError(() => {
      if (!by?.actor) throw new BusinessError('VALIDATION_ERROR', 'a decision names the operator who takes it');
      if (steps.busy) throw new BusinessError('CONFLICT', 'another decision on this correction is in progress; try again shortly');
      checkCorrectionDecision(state.status, decision, { actor: by.actor, proposer: input.proposedBy, reason: by.reason });
    });

  setHandler(
    approveCorrection,
    async ({ actor }) => {
      await exclusively(async () => {
        const applied = await applyApprovedCorrection({ cooperativeId: input.cooperativeId, correctionId: input.correctionId, approvedBy: actor });
        Object.assign(state, { status: 'applied', decidedBy: actor, transactionId: applied.transactionId });
      });
      return state;
    },
    { validator: validate('approve') },
  );
  setHandler(
    rejectCorrection,
    async ({ actor, reason }) => {
      await exclusively(async () => {
        await closeCorrection({ cooperativeId: input.cooperativeId, correctionId: input.correctionId, status: 'rejected', decidedBy: actor, reason: reason!.trim() });
        Object.assign(state, { status: 'rejected', decidedBy: actor });
      });
      return state;
    },
    { validator: validate('reject') },
  );

  await deadline(Date.parse(state.expiresAt) - Date.now()).until(() => state.status !== 'proposed');
  // A decision being recorded as the window ends goes first.
  await condition(() => !steps.busy);
  if (state.status === 'proposed') {
    await exclusively(async () => {
      await closeCorrection({ cooperativeId: input.cooperativeId, correctionId: input.correctionId, status: 'expired', decidedBy: null, reason: null });
      state.status = 'expired';
    });
  }
  await condition(allHandlersFinished);
  return state;
}
