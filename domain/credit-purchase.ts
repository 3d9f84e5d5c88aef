/**
 * A card purchase of credits, as its workflow moves it along (see workflows/credit-purchase.ts).
 * `mint_failed`: paid, but minting failed beyond its retries and went to the dead-letter queue; the
 * purchase moves on to `minted` if a retry there succeeds, and stays here if an operator resolves or
 * discards it (decision 0014).
 */
export const PURCHASE_STATUSES = ['creating_payment', 'awaiting_payment', 'minted', 'mint_failed', 'expired', 'refunded'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/** What a payment provider's event means for a purchase (api/stripe-events.ts maps Stripe's events to these). */
export const PAYMENT_EVENT_KINDS = ['succeeded', 'failed', 'refunded', 'disputed'] as const;
export type PaymentEventKind = (typeof PAYMENT_EVENT_KINDS)[number];

export interface PurchaseHistoryEntry {
  status: string;
  step: string;
  detail: Record<string, unknown>;
  at: string;
}

export interface CreditPurchase {
  id: string;
  cooperativeId: string;
  memberId: string;
  /** µCLOUD bought. */
  amount: bigint;
  amountCents: bigint;
  pack: string | null;
  status: PurchaseStatus;
  paymentIntentId: string | null;
  clientSecret: string | null;
  mintTransaction: string | null;
  refundedCents: bigint;
  createdAt: string;
  updatedAt: string;
  history: PurchaseHistoryEntry[];
}
