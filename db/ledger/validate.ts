import { BusinessError } from '../../domain/errors';
import { MAX_AMOUNT } from '../../domain/money';

/** Defensive checks for callers that bypass the API's contracts (workflows, scripts). */
export function requirePositiveAmount(amount: bigint, what = 'amount'): void {
  if (typeof amount !== 'bigint' || amount <= 0n || amount > MAX_AMOUNT) throw new BusinessError('VALIDATION_ERROR', `${what} must be a positive amount`);
}
