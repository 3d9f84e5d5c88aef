import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** An activity's result, or what it failed with once its retry policy gave up. */
export type Outcome<T> = { value: T; error?: undefined } | { error: string };

const describe = (failure: ApplicationFailure) => (failure.type ? `${failure.type}: ${failure.message}` : failure.message);

/**
 * Runs an activity; a failure beyond its retry policy is returned, as the text a dead-letter item
 * records (the failure's type and message, not Temporal's wrapper), instead of thrown. A local
 * activity's failure arrives (SDK 1.24) as the activity's own ApplicationFailure, without the wrapper.
 */
export async function unlessFailed<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await run() };
  } catch (err) {
    if (err instanceof ApplicationFailure) return { error: describe(err) };
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { error: describe(cause) };
    return { error: cause?.message ?? err.message };
  }
}
