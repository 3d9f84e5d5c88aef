import { apiErrorFromWorkflowFailure } from './temporal-failures';

/**
 * Waits a bounded time for a workflow's result, so a request never hangs on a busy or absent worker:
 * `undefined` means "still running", and the caller answers 202 with the workflow id.
 */
export async function awaitWorkflowResult<T>(handle: { result(): Promise<T> }, waitMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([handle.result(), timeout]);
  } catch (err) {
    throw apiErrorFromWorkflowFailure(err) ?? err;
  } finally {
    clearTimeout(timer);
  }
}
