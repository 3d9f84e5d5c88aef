/** Business failures of ledger operations; each code is also an API error code. */
export type LedgerErrorCode = 'INSUFFICIENT_FUNDS' | 'IDEMPOTENCY_MISMATCH' | 'NOT_FOUND' | 'CONFLICT' | 'VALIDATION_ERROR';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
