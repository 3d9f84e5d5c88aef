import { findPeriod } from '../../db/accounting-periods';
import { periodBounds, periodCloseWorkflowId, type AccountingPeriod, type PeriodCloseInput, type PeriodCloseState } from '../../domain/accounting-periods';
import { periodClose, periodCloseState, retryPeriodClose } from '../../workflows/period-close';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { temporalCall, waitOf } from '../await-workflow';

export type PeriodCloseOutcome = { kind: 'closed'; period: AccountingPeriod } | { kind: 'underway'; period: AccountingPeriod; close: PeriodCloseState & { workflowId: string } };

const POLL_MS = 200;
const FIRST_QUERY_MS = 2_000;

/**
 * Closes a period: starts its close workflow, or nudges the one under way to try again (signal with
 * start), then waits a bounded time (decision 0003) until the period is closed or the close is blocked.
 */
export async function closePeriod(deps: ApiDependencies, input: { cooperativeId: string; period: string; requestedBy: string }): Promise<PeriodCloseOutcome> {
  const { end } = periodBounds(input.period);
  if (end.getTime() > Date.now()) throw new ApiError('CONFLICT', `Period ${input.period} has not ended: it can be closed from ${end.toISOString()} on`);
  const current = await findPeriod(deps.pool, input.cooperativeId, input.period);
  if (current.status === 'closed') return { kind: 'closed', period: current };
  const workflowId = periodCloseWorkflowId(input.cooperativeId, input.period);
  const args: PeriodCloseInput = { ...input, deadLetterRetryDelaysMs: deps.config.deadLetter.retryDelaysMs };
  // A close under way has made this many attempts: the answer waits for the one this request asks for.
  const deadline = Date.now() + waitOf(deps);
  const remaining = () => Math.max(1, deadline - Date.now());
  // Bounded apart: with no worker to answer it, it must leave the signal below its share of the wait.
  const attemptsBefore = await temporalCall(deps, () => deps.temporal.workflow.getHandle(workflowId).query(periodCloseState), Math.min(remaining(), FIRST_QUERY_MS)).then((s) => s.attempts, () => 0);
  const handle = await temporalCall(deps, () => deps.temporal.workflow.signalWithStart(periodClose, { workflowId, taskQueue: deps.config.temporal.taskQueue, args: [args], signal: retryPeriodClose, signalArgs: [] }), remaining());
  let state: PeriodCloseState | undefined;
  for (;;) {
    state = await temporalCall(deps, () => handle.query(periodCloseState), remaining()).catch(() => state);
    if (state?.status === 'closed' || (state?.status === 'blocked' && state.attempts > attemptsBefore) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const period = await findPeriod(deps.pool, input.cooperativeId, input.period);
  if (period.status === 'closed') return { kind: 'closed', period };
  return { kind: 'underway', period, close: { ...(state ?? { status: 'sampling', period: input.period, attempts: 0, blockedBy: null, closedAt: null }), workflowId } };
}
