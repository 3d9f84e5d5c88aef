import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import { findPurchase, recordPurchaseStep, type PurchaseStep } from '../db/credit-purchases';

/**
 * Stripe calls and purchase records. Each Stripe call carries an idempotency key derived from the
 * purchase, so a retried activity creates or cancels the payment once.
 */
export function createPaymentActivities(pool: Pool, stripe: Stripe) {
  return {
    async createPaymentIntent(input: { purchaseId: string; cooperativeId: string; memberId: string; amountCents: bigint }): Promise<{ paymentIntentId: string; clientSecret: string }> {
      const intent = await stripe.paymentIntents.create(
        {
          amount: Number(input.amountCents), // Stripe's API takes an integer; purchases are capped far below 2^53 cents
          currency: 'usd',
          automatic_payment_methods: { enabled: true },
          metadata: { purchaseId: input.purchaseId, cooperativeId: input.cooperativeId, memberId: input.memberId },
        },
        { idempotencyKey: `purchase:${input.purchaseId}:payment-intent` },
      );
      if (!intent.client_secret) throw ApplicationFailure.create({ message: 'Stripe returned a PaymentIntent without a client secret', nonRetryable: true });
      return { paymentIntentId: intent.id, clientSecret: intent.client_secret };
    },

    /**
     * At the deadline: ask Stripe how the payment stands before cancelling it. A payment that succeeded
     * (its webhook late or lost) is reported, never cancelled; one still processing is left to finish.
     */
    async settleUnpaidPayment(input: { purchaseId: string; paymentIntentId: string }): Promise<'succeeded' | 'processing' | 'canceled'> {
      const intent = await stripe.paymentIntents.retrieve(input.paymentIntentId);
      if (intent.status === 'succeeded') return 'succeeded';
      if (intent.status === 'processing' || intent.status === 'requires_capture') return 'processing';
      if (intent.status !== 'canceled') await stripe.paymentIntents.cancel(input.paymentIntentId, {}, { idempotencyKey: `purchase:${input.purchaseId}:cancel` });
      return 'canceled';
    },

    recordPurchaseStep: (step: PurchaseStep) => recordPurchaseStep(pool, step),

    /** The purchase with its history: a refund workflow reads what earlier runs took into account. */
    findPurchase: (cooperativeId: string, purchaseId: string) => findPurchase(pool, cooperativeId, purchaseId),
  };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
