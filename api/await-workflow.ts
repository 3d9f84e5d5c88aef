import { WorkflowExecutionAlreadyStartedError, type WorkflowUpdateHandle } from '@temporalio/client';
import type { ApiDependencies } from './dependencies';
import { apiErrorFromWorkflowFailure } from './temporal-failures';

type TemporalDeps = Pick<ApiDependencies, 'temporal' | 'workflowWaitMs'>;

/** How long a request waits on Temporal at most (ApiDependencies.workflowWaitMs). */
export const waitOf = (deps: TemporalDeps): number => deps.workflowWaitMs ?? 10_000;

/**
 * Every call the API makes to Temporal (start, signal, query, Update) goes through here, under the
 * request's wait. Without a deadline the SDK retries an unreachable server for ~20 s, and waits on an
 * Update for as long as no worker runs; with one, the call fails with DEADLINE_EXCEEDED, which answers
 * 503 with Retry-After (api/errors.ts), and the request never hangs.
 */
export function temporalCall<T>(deps: TemporalDeps, call: () => Promise<T>, waitMs = waitOf(deps)): Promise<T> {
  return deps.temporal.withDeadline(Date.now() + waitMs, call);
}

/** How long an accepted Update may take to complete: its handler's steps, each bounded by its activity's timeouts. */
const UPDATE_COMPLETION_MS = 120_000;

/**
 * Runs an Update: accepted within the request's wait (with no worker to accept it, 503 quickly), then
 * awaited until it completes. Once accepted it runs whatever the client does, so answering 503 while
 * it works would only invite the client to send a second one.
 */
export async function runUpdate<R>(deps: TemporalDeps, start: () => Promise<WorkflowUpdateHandle<R>>): Promise<R> {
  const update = await temporalCall(deps, start);
  return temporalCall(deps, () => update.result(), UPDATE_COMPLETION_MS);
}

/**
 * Starts a workflow that must run once per business id (with USE_EXISTING + REJECT_DUPLICATE), under the
 * request's wait: a repeated request joins the running one, and a finished one is never run again.
 */
export async function startOnce(deps: TemporalDeps, start: () => Promise<unknown>): Promise<void> {
  try {
    await temporalCall(deps, start);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Waits a bounded time for a workflow's result, so a request never hangs on a busy or absent worker:
 * `undefined` means "still running", and the caller answers 202 with the workflow id. The wait's
 * long-polls are cancelled when it ends, not left running after the answer.
 */
export async function awaitWorkflowResult<T>(deps: TemporalDeps, handle: { result(): Promise<T> }): Promise<T | undefined> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitOf(deps));
  try {
    return await deps.temporal.withAbortSignal(stop.signal, () => handle.result());
  } catch (err) {
    if (stop.signal.aborted) return undefined;
    throw apiErrorFromWorkflowFailure(err) ?? err;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}
