import { ApplicationFailure } from '@temporalio/activity';
import { BusinessError } from '../domain/errors';
import { MoneyFormatError } from '../domain/money';

/**
 * Runs activity work so that business refusals are final for Temporal (no retry) and keep their code
 * as the failure type, which workflows and the API map back to the same error. Anything else retries.
 */
export async function asActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BusinessError) throw ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true });
    if (err instanceof MoneyFormatError) throw ApplicationFailure.create({ type: 'VALIDATION_ERROR', message: err.message, nonRetryable: true });
    throw err;
  }
}
