import { ApplicationFailure, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { isErrorCode } from '../domain/errors';
import { ApiError } from './errors';

/**
 * A workflow (or an Update its validator refused) that fails on a business rule carries an ApplicationFailure whose type is one of our
 * error codes, possibly wrapped in an ActivityFailure. Turn it back into the API error.
 */
export function apiErrorFromWorkflowFailure(err: unknown): ApiError | undefined {
  if (!(err instanceof WorkflowFailedError) && !(err instanceof WorkflowUpdateFailedError)) return undefined;
  for (let cause: unknown = err.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return new ApiError(cause.type, cause.message);
    }
  }
  return undefined;
}
