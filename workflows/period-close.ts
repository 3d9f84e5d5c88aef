import { condition, continueAsNew, defineQuery, defineSignal, patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PeriodActivities } from '../activities/periods';
import { PERIOD_CLOSE_RETRY_SIGNAL, type PeriodCloseInput, type PeriodCloseState, type PeriodCloseStatus } from '../domain/accounting-periods';
import { BusinessStatus, CooperativeId } from './search-attributes';
import { sampleCooperativeStreams } from './stream-sampling';

export const retryPeriodClose = defineSignal(PERIOD_CLOSE_RETRY_SIGNAL);
export const periodCloseState = defineQuery<PeriodCloseState>('state');

const { beginPeriodClose, completePeriodClose } = proxyActivities<PeriodActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

const HOUR_MS = 3_600_000;
/** Waits one run makes before it continues as new: a close blocked for weeks keeps a short history (a few dozen events a wait). */
export const WAITS_PER_RUN = 100;
/** Runs started before this marker never continued as new: their histories replay without it. */
const CONTINUES_AS_NEW = 'period-close-continues-as-new';

/**
 * `period-close:<cooperative>:<period>`: samples every stream of the cooperative at the period's exact
 * boundary first (the same run as the schedule's, for that instant), then closes the period, which the
 * database allows only once every stream is sampled to the boundary. While a stream cannot be sampled
 * the close waits `blocked` with the reason, and tries again every hour or when signalled (an operator
 * set a manual price, or a dead-letter item was settled). Found in the Temporal UI by CooperativeId
 * and BusinessStatus. A close blocked for long continues as new, carrying its count of attempts.
 */
export async function periodClose(input: PeriodCloseInput): Promise<PeriodCloseState> {
  const state: PeriodCloseState = { status: 'sampling', period: input.period, attempts: input.attemptsSoFar ?? 0, blockedBy: null, closedAt: null };
  let retryRequested = false;
  setHandler(periodCloseState, () => state);
  setHandler(retryPeriodClose, () => void (retryRequested = true));
  const setStatus = (status: PeriodCloseStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: BusinessStatus, value: status }]);
  };
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: state.status }]);

  const begun = await beginPeriodClose({ cooperativeId: input.cooperativeId, period: input.period, requestedBy: input.requestedBy });
  for (let waits = 1; ; waits++) {
    if (begun.status !== 'closed') {
      state.attempts++;
      const sampled = await sampleCooperativeStreams({ cooperativeId: input.cooperativeId, instant: begun.endsAt, deadLetterRetryDelaysMs: input.deadLetterRetryDelaysMs });
      state.blockedBy = sampled.status === 'completed' ? null : `not sampled to ${begun.endsAt}: no usable price for [${sampled.unpriced.join(', ')}], dead-lettered [${sampled.deadLettered.join(', ')}]`;
    }
    if (state.blockedBy === null) {
      const closed = await completePeriodClose({ cooperativeId: input.cooperativeId, period: input.period });
      if (closed.closed) {
        state.closedAt = closed.closedAt;
        setStatus('closed');
        return state;
      }
      state.blockedBy = closed.reason;
    }
    setStatus('blocked');
    await condition(() => retryRequested, input.retryEveryMs ?? HOUR_MS);
    retryRequested = false;
    // The new run tries again at once, which also answers a retry asked for meanwhile.
    if ((waits >= WAITS_PER_RUN || workflowInfo().continueAsNewSuggested) && patched(CONTINUES_AS_NEW)) {
      await continueAsNew<typeof periodClose>({ ...input, attemptsSoFar: state.attempts });
    }
    setStatus('sampling');
  }
}
