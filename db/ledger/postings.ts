import type { LedgerEntry } from '../../domain/ledger-types';
import type { ResolvedAccount } from './accounts';

/** Debit: a positive entry. */
export function debit(account: ResolvedAccount, amount: bigint): LedgerEntry {
  return { accountId: account.id, accountCode: account.code, memberId: account.memberId, currency: account.currency, amount };
}

/** Credit: a negative entry. */
export function credit(account: ResolvedAccount, amount: bigint): LedgerEntry {
  return { accountId: account.id, accountCode: account.code, memberId: account.memberId, currency: account.currency, amount: -amount };
}
