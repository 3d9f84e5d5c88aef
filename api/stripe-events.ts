import type Stripe from 'stripe';
import type { PaymentEventKind } from '../domain/credit-purchase';

export interface MappedEvent {
  kind: PaymentEventKind;
  paymentIntentId: string;
  /** Our purchase id from the PaymentIntent's metadata, when the event carries it. */
  purchaseId?: string;
  /** Refunds: total cents refunded so far. Disputes: cents disputed. */
  cents?: bigint;
}

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === 'string' ? v : v?.id);

/** What a Stripe event means for a purchase, or undefined for events that do not concern one. */
export function mapStripeEvent(event: Stripe.Event): MappedEvent | undefined {
  switch (event.type) {
    case 'payment_intent.succeeded':
      return { kind: 'succeeded', paymentIntentId: event.data.object.id, purchaseId: event.data.object.metadata?.purchaseId };
    case 'checkout.session.completed': {
      const session = event.data.object;
      const pi = idOf(session.payment_intent);
      return pi && session.payment_status === 'paid' ? { kind: 'succeeded', paymentIntentId: pi, purchaseId: session.metadata?.purchaseId } : undefined;
    }
    case 'payment_intent.payment_failed':
      return { kind: 'failed', paymentIntentId: event.data.object.id, purchaseId: event.data.object.metadata?.purchaseId };
    case 'charge.refunded': {
      const pi = idOf(event.data.object.payment_intent);
      return pi ? { kind: 'refunded', paymentIntentId: pi, cents: BigInt(event.data.object.amount_refunded) } : undefined;
    }
    case 'charge.dispute.created': {
      const pi = idOf(event.data.object.payment_intent);
      return pi ? { kind: 'disputed', paymentIntentId: pi, cents: BigInt(event.data.object.amount) } : undefined;
    }
    default:
      return undefined;
  }
}
