import type { PoolClient } from 'pg';
import type { LedgerEntry } from '../../../domain/ledger-types';
import { cloudToUsd } from '../../../domain/money';
import { resolveAccounts, type AccountRef, type ResolvedAccount } from '../accounts';
import { credit, debit } from '../postings';

/** Where retired credits' liability goes: redeemed for service, or broken (burned, expired). */
export type RetireAs = 'redemption' | 'breakage';

export interface RetireAccounts {
  wallet: ResolvedAccount;
  issued: ResolvedAccount;
  outstanding: ResolvedAccount;
  promotionalOutstanding: ResolvedAccount;
  revenue: ResolvedAccount;
}

/** How much of an amount came from paid and from promotional lots. */
export interface CategorySplit {
  paid: bigint;
  promotional: bigint;
}

export function splitByCategory(taken: Array<{ lotId: string; amount: bigint }>, categoryOf: (lotId: string) => 'paid' | 'promotional'): CategorySplit {
  const split = { paid: 0n, promotional: 0n };
  for (const t of taken) split[categoryOf(t.lotId)] += t.amount;
  return split;
}

/** The accounts a retirement posts to, wallet first (an operation spec locks and reads index 0). */
export function retireAccountRefs(memberId: string, as: RetireAs): AccountRef[] {
  return [
    { member: memberId, account: 'wallet' },
    { cooperative: 'cloudIssued' },
    { cooperative: 'creditsOutstanding' },
    { cooperative: 'promotionalOutstanding' },
    { cooperative: as === 'redemption' ? 'redemptionRevenue' : 'breakageRevenue' },
  ];
}

export function toRetireAccounts([wallet, issued, outstanding, promotionalOutstanding, revenue]: ResolvedAccount[]): RetireAccounts {
  return { wallet: wallet!, issued: issued!, outstanding: outstanding!, promotionalOutstanding: promotionalOutstanding!, revenue: revenue! };
}

export async function resolveRetireAccounts(client: PoolClient, cooperativeId: string, memberId: string, as: RetireAs): Promise<RetireAccounts> {
  return toRetireAccounts(await resolveAccounts(client, cooperativeId, retireAccountRefs(memberId, as)));
}

/**
 * Credits leaving circulation. CLOUD leg: Dr wallet / Cr 1900 CLOUD Issued. USD leg: Dr 2220 (paid)
 * and 2230 (promotional) liability / Cr 4420 redemption revenue (or 4490 breakage revenue).
 */
export function retirePostings(a: RetireAccounts, split: CategorySplit): LedgerEntry[] {
  const amount = split.paid + split.promotional;
  return [
    debit(a.wallet, amount),
    credit(a.issued, amount),
    debit(a.outstanding, cloudToUsd(split.paid)),
    debit(a.promotionalOutstanding, cloudToUsd(split.promotional)),
    credit(a.revenue, cloudToUsd(amount)),
  ];
}
