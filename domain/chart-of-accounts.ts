import type { Currency } from './money';

export const ACCOUNT_TYPES = ['asset', 'liability', 'equity', 'revenue', 'expense'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** Who an account belongs to: a member's own accounts, the cooperative's, or the system's (its chart of accounts). */
export const ACCOUNT_OWNER_TYPES = ['member', 'cooperative', 'system'] as const;
export type AccountOwnerType = (typeof ACCOUNT_OWNER_TYPES)[number];

export interface AccountTemplate {
  code: string;
  name: string;
  currency: Currency;
  type: AccountType;
  allowNegative: boolean;
  /** >1 for accounts every mint or redemption touches (see the ledger migration). */
  balanceShards: number;
}

const HOT = 16;

/** Accounts every cooperative has. CLOUD issuance mirrors, in CLOUD, all credits outstanding. */
export const COOPERATIVE_ACCOUNTS = {
  cash: { code: '1110', name: 'Operating Checking', currency: 'USD', type: 'asset', allowNegative: true, balanceShards: HOT },
  cloudIssued: { code: '1900', name: 'CLOUD Issued', currency: 'CLOUD', type: 'asset', allowNegative: true, balanceShards: HOT },
  creditsOutstanding: { code: '2220', name: 'CLOUD Credits Outstanding', currency: 'USD', type: 'liability', allowNegative: true, balanceShards: HOT },
  /** Granted credits: owed as service, but no cash came in, so kept apart from the cash-backed 2220. */
  promotionalOutstanding: { code: '2230', name: 'Promotional CLOUD Credits Outstanding', currency: 'USD', type: 'liability', allowNegative: true, balanceShards: HOT },
  distributions: { code: '3300', name: 'Revenue Distributed as Credits', currency: 'USD', type: 'equity', allowNegative: true, balanceShards: HOT },
  redemptionRevenue: { code: '4420', name: 'Credit Redemption Revenue', currency: 'USD', type: 'revenue', allowNegative: true, balanceShards: HOT },
  breakageRevenue: { code: '4490', name: 'Credit Breakage Revenue', currency: 'USD', type: 'revenue', allowNegative: true, balanceShards: HOT },
  promotionalCredits: { code: '5900', name: 'Promotional Credits Granted', currency: 'USD', type: 'expense', allowNegative: true, balanceShards: HOT },
  computeInfrastructure: { code: '5510', name: 'Compute Infrastructure', currency: 'USD', type: 'expense', allowNegative: true, balanceShards: 1 },
  // Streams (domain/streams.ts): each sample books its flow at its USD value when it is sampled. Inbound
  // tokens are held at that value (Dr 1310 / Cr 4610); outbound ones leave at it (Dr 5610, 5620 or 3310 / Cr 1310).
  streamTokens: { code: '1310', name: 'Streamed Tokens Held (at sampled value)', currency: 'USD', type: 'asset', allowNegative: true, balanceShards: 1 },
  streamDistributions: { code: '3310', name: 'Distributions Paid by Stream', currency: 'USD', type: 'equity', allowNegative: true, balanceShards: 1 },
  streamRevenue: { code: '4610', name: 'Stream Revenue', currency: 'USD', type: 'revenue', allowNegative: true, balanceShards: 1 },
  streamExpense: { code: '5610', name: 'Stream Payments', currency: 'USD', type: 'expense', allowNegative: true, balanceShards: 1 },
  memberCompensation: { code: '5620', name: 'Member Compensation by Stream', currency: 'USD', type: 'expense', allowNegative: true, balanceShards: 1 },
  // Settlement between cooperatives (decision 0022): what this cooperative earns in CLOUD from another's members.
  intercooperativeIncome: { code: '4700', name: 'Intercooperative Exchange Income (CLOUD)', currency: 'CLOUD', type: 'revenue', allowNegative: true, balanceShards: 1 },
} as const satisfies Record<string, AccountTemplate>;

/**
 * One per counterparty cooperative, opened on the first settlement with it: a debit balance is owed by
 * the counterparty, a credit balance owed to it. Network-wide, each exchange's clearing entries net to zero.
 */
export const CLEARING_ACCOUNT = { code: '1950', name: 'Intercooperative Clearing', currency: 'CLOUD', type: 'asset', allowNegative: true, balanceShards: 1 } as const satisfies AccountTemplate;

/** Accounts every member has, opened with the member. */
export const MEMBER_ACCOUNTS = {
  wallet: { code: '2100', name: 'Member CLOUD Wallet', currency: 'CLOUD', type: 'liability', allowNegative: false, balanceShards: 1 },
  staking: { code: '2150', name: 'Member Staked CLOUD', currency: 'CLOUD', type: 'liability', allowNegative: false, balanceShards: 1 },
  receivable: { code: '1200', name: 'Member Receivable (credits spent then refunded)', currency: 'USD', type: 'asset', allowNegative: false, balanceShards: 1 },
} as const satisfies Record<string, AccountTemplate>;

export type CooperativeAccountKey = keyof typeof COOPERATIVE_ACCOUNTS;
export type MemberAccountKey = keyof typeof MEMBER_ACCOUNTS;
