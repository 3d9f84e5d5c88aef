import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** An activity's result, or what it failed with once its retry policy gave up. */
export type Outcome<T> = { value: T; error?: undefined } | { error: string };

/**
 * Runs an activity; a failure beyond its retry policy is returned, as the text a dead-letter item
 * records (the failure's type and message, not Temporal's wrapper), instead of thrown.
 */
export async function unlessFailed<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await run() };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { error: cause.type ? `${cause.type}: ${cause.message}` : cause.message };
    return { error: cause?.message ?? err.message };
  }
}
