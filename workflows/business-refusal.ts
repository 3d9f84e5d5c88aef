import { ApplicationFailure } from '@temporalio/workflow';
import { BusinessError } from '../domain/errors';

/**
 * Runs an Update validator's checks. A business rule's refusal rejects the Update with the rule's
 * code as the failure type, which the API turns back into the same error (api/temporal-failures.ts);
 * validators run before anything is recorded, so a refused action leaves no trace in history.
 */
export function refuseOnBusinessError(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (!(err instanceof BusinessError)) throw err;
    throw ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true });
  }
}
