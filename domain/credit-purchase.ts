/**
 * A card purchase of credits, as its workflow moves it along (see workflows/credit-purchase.ts).
 * `failed`: Stripe refused to create the payment, or to settle it at the deadline, in a way no retry
 * changes (PAYMENT_PROVIDER_ERROR); the purchase ends there, its history says why.
 * `mint_failed`: paid, but minting failed beyond its retries and went to the dead-letter queue; the
 * purchase moves on to `minted` if a retry there succeeds, and stays here if an operator resolves or
 * discards it (decision 0014).
 */
export const PURCHASE_STATUSES = ['creating_payment', 'awaiting_payment', 'minted', 'mint_failed', 'expired', 'failed', 'refunded'] as const;
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

/** A refund or dispute a purchase has taken into account, as its history records it (each event once, by id). */
export interface RecordedRefunds {
  eventIds: string[];
  /** The largest total refunded a refund event reported (Stripe reports the total so far). */
  refundedCents: bigint;
  /** The sum of the disputes. */
  disputedCents: bigint;
  /** When refunds stop being clawed back, if the purchase recorded it at mint (workflow time, ms). */
  refundWindowEndsAt?: number;
}

/** Reads what a purchase's history says about its refunds, so a later refund workflow continues where the last one ended. */
export function recordedRefunds(history: readonly PurchaseHistoryEntry[]): RecordedRefunds {
  const found: RecordedRefunds = { eventIds: [], refundedCents: 0n, disputedCents: 0n };
  for (const entry of history) {
    const d = entry.detail;
    if (entry.step === 'minted' && typeof d.refundWindowEndsAt === 'number') found.refundWindowEndsAt = d.refundWindowEndsAt;
    if (d.kind !== 'refunded' && d.kind !== 'disputed') continue;
    found.eventIds.push(entry.step);
    // Refund steps recorded before the event's own amount was kept carry the total clawed back then.
    const cents = BigInt(String(d.cents ?? (d.kind === 'refunded' ? (d.refundedCents ?? '0') : '0')));
    if (d.kind === 'refunded') found.refundedCents = cents > found.refundedCents ? cents : found.refundedCents;
    else found.disputedCents += cents;
  }
  return found;
}

/** What is owed back for a purchase: refunds plus disputes, never more than was paid. */
export function owedCents(refundedCents: bigint, disputedCents: bigint, amountCents: bigint): bigint {
  const owed = refundedCents + disputedCents;
  return owed < amountCents ? owed : amountCents;
}
