import type { Currency } from './money';

export const TRANSACTION_TYPES = [
  'mint', 'transfer', 'redemption', 'burn', 'stake', 'unstake', 'correction',
  'refund_clawback', 'revenue_distribution', 'lot_expiry', 'stream_sample', 'settlement',
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export const LOT_SOURCES = ['purchase', 'grant', 'transfer_in', 'unstake', 'correction', 'distribution'] as const;
export type LotSource = (typeof LOT_SOURCES)[number];

export interface Posting {
  accountId: string;
  currency: Currency;
  /** Debit positive, credit negative. */
  amount: bigint;
}

export interface LedgerEntry extends Posting {
  accountCode: string;
  memberId: string | null;
}

export interface LedgerTransaction {
  id: string;
  cooperativeId: string;
  type: TransactionType;
  idempotencyKey: string;
  reversesTransactionId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  entries: LedgerEntry[];
}
