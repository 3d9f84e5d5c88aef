/** A card purchase of credits, as its workflow moves it along (see workflows/credit-purchase.ts). */
export const PURCHASE_STATUSES = ['creating_payment', 'awaiting_payment', 'minted', 'expired', 'refunded'] as const;
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
