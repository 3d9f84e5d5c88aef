import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeadLetterActivities } from '../activities/dead-letter';
import {
  checkDeadLetterAction,
  DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS,
  isSettled,
  SETTLED_BY,
  type DeadLetterAction,
  type DeadLetterHistoryAction,
  type DeadLetterOperationType,
  type DeadLetterStatus,
  type SettledDeadLetterStatus,
} from '../domain/dead-letter';
import { BusinessError } from '../domain/errors';
import { unlessFailed } from './activity-outcome';
import { refuseOnBusinessError } from './business-refusal';
import { oneStepAtATime } from './one-step-at-a-time';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface DeadLetterInput {
  itemId: string;
  operationType: DeadLetterOperationType;
  cooperativeId: string | null;
  /** Delays before each automatic retry (default 60 s, 300 s, 1,800 s). */
  retryDelaysMs?: readonly number[];
  /** The workflow that handed the item over and waits to learn how it settled (workflows/dead-letter-handover.ts). */
  notifyWorkflowId?: string;
}

export interface DeadLetterState {
  status: DeadLetterStatus;
  /** Handler runs by this workflow. */
  attempts: number;
  /** The error of the latest failed run, once one has failed here. */
  lastError?: string;
  /** When the next automatic retry runs, while one is pending. */
  nextRetryAt?: string;
}

export interface DeadLetterActionInput {
  /** The operator's subject, recorded with the action. */
  actor: string;
  /** The resolve note or the discard reason (both required), or a remark on a retry. */
  note?: string;
}

export interface DeadLetterSettlement {
  itemId: string;
  status: SettledDeadLetterStatus;
}

export const retryDeadLetter = defineUpdate<DeadLetterState, [DeadLetterActionInput]>('retry');
export const resolveDeadLetter = defineUpdate<DeadLetterState, [DeadLetterActionInput]>('resolve');
export const discardDeadLetter = defineUpdate<DeadLetterState, [DeadLetterActionInput]>('discard');
export const deadLetterState = defineQuery<DeadLetterState>('state');
/** Sent to `notifyWorkflowId` once the item has settled. */
export const deadLetterSettled = defineSignal<[DeadLetterSettlement]>('deadLetterSettled');

// A run is one attempt: the retry policy of the queue is the delays, not Temporal's.
const { runDeadLetterHandler } = proxyActivities<DeadLetterActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 1 } });
const { applyDeadLetterStep } = proxyActivities<DeadLetterActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '1 minute' } });

/**
 * A handed-over operation (`dlq:<itemId>`): after each delay its handler runs once; the first success
 * settles it. After the last automatic failure it waits in manual review for an operator to retry it
 * (once, now), resolve it (with a note) or discard it (with a reason); resolve and discard also cancel
 * retries still pending. Actions are Updates, validated and taken one at a time, each recorded with
 * who took it. BusinessStatus lets operators find the waiting items in the Temporal UI.
 */
export async function deadLetter(input: DeadLetterInput): Promise<DeadLetterState> {
  const state: DeadLetterState = { status: 'retrying', attempts: 0 };
  // Set while the handler runs or a step is recorded: actions are refused meanwhile, one at a time.
  const oneStep = oneStepAtATime();
  let steps = 0;
  setHandler(deadLetterState, () => state);
  upsertSearchAttributes([...(input.cooperativeId ? [{ key: CooperativeId, value: input.cooperativeId }] : []), { key: BusinessStatus, value: state.status }]);

  /** One run of the handler, and its error if it failed. */
  const runHandler = () => unlessFailed(() => runDeadLetterHandler({ itemId: input.itemId }));

  /** Records a step in the item's history and moves it on, in the database first. `run` is the handler's outcome if the step ran it. */
  const record = async (action: DeadLetterHistoryAction, to: DeadLetterStatus, by?: DeadLetterActionInput, run?: { error?: string }) => {
    await applyDeadLetterStep({
      // The run id keeps the keys of a later run of the same item apart from this one's.
      itemId: input.itemId, step: `${workflowInfo().runId}:${++steps}`, action, from: state.status, to,
      actor: by?.actor, note: by?.note, ran: run !== undefined, error: run?.error,
    });
    state.status = to;
    if (run) state.attempts++;
    if (run?.error) state.lastError = run.error;
    upsertSearchAttributes([{ key: BusinessStatus, value: to }]);
  };

  const exclusively = (step: () => Promise<void>) => oneStep.run(step);

  const validate = (action: DeadLetterAction) => (by: DeadLetterActionInput) =>
    refuseOnBusinessError(() => {
      if (!by?.actor) throw new BusinessError('VALIDATION_ERROR', 'an action names the operator who takes it');
      if (oneStep.busy) throw new BusinessError('CONFLICT', 'another step of this item is in progress; try again shortly');
      checkDeadLetterAction(state.status, action, by.note);
    });

  setHandler(
    retryDeadLetter,
    async (by) => {
      await exclusively(async () => {
        const run = await runHandler();
        await record('retry', run.error === undefined ? 'succeeded' : 'manual_review', by, run);
      });
      return state;
    },
    { validator: validate('retry') },
  );
  for (const [update, action] of [[resolveDeadLetter, 'resolve'], [discardDeadLetter, 'discard']] as const) {
    setHandler(
      update,
      async (by) => {
        await exclusively(() => record(action, SETTLED_BY[action], by));
        return state;
      },
      { validator: validate(action) },
    );
  }

  const delays = input.retryDelaysMs?.length ? input.retryDelaysMs : DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS;
  for (const [i, delay] of delays.entries()) {
    const due = Date.now() + delay;
    state.nextRetryAt = new Date(due).toISOString();
    while (state.status === 'retrying' && Date.now() < due) await condition(() => state.status !== 'retrying', due - Date.now());
    // A resolve or discard being recorded as the delay ends goes first, and settles the item.
    await condition(() => !oneStep.busy);
    if (state.status !== 'retrying') break;
    state.nextRetryAt = undefined;
    await exclusively(async () => {
      const run = await runHandler();
      await record('automatic_retry', run.error === undefined ? 'succeeded' : i === delays.length - 1 ? 'manual_review' : 'retrying', undefined, run);
    });
  }
  state.nextRetryAt = undefined;

  await condition(() => isSettled(state.status));
  await condition(allHandlersFinished);
  const status = state.status;
  if (input.notifyWorkflowId && isSettled(status)) {
    try {
      await getExternalWorkflowHandle(input.notifyWorkflowId).signal(deadLetterSettled, { itemId: input.itemId, status });
    } catch {
      // A signal to a known workflow fails only when it has closed: nobody is waiting any more.
    }
  }
  return state;
}
