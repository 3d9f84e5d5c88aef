import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import { findPurchase, recordPurchaseStep, type PurchaseStep } from '../db/credit-purchases';
import { asStripeCall, stripeErrorCode } from './stripe-failure';

/**
 * Stripe calls and purchase records. Each Stripe call carries an idempotency key derived from the
 * purchase, so a retried activity creates or cancels the payment once. A refusal Stripe would repeat
 * (a 4xx other than 409 and 429) fails as PAYMENT_PROVIDER_ERROR, not retried (activities/stripe-failure.ts).
 */
export function createPaymentActivities(pool: Pool, stripe: Stripe) {
  return {
    async createPaymentIntent(input: { purchaseId: string; cooperativeId: string; memberId: string; amountCents: bigint }): Promise<{ paymentIntentId: string; clientSecret: string }> {
      const intent = await asStripeCall(() => stripe.paymentIntents.create(
        {
          amount: Number(input.amountCents), // Stripe's API takes an integer; purchases are capped far below 2^53 cents
          currency: 'usd',
          automatic_payment_methods: { enabled: true },
          metadata: { purchaseId: input.purchaseId, cooperativeId: input.cooperativeId, memberId: input.memberId },
        },
        { idempotencyKey: `purchase:${input.purchaseId}:payment-intent` },
      ));
      if (!intent.client_secret) throw ApplicationFailure.create({ type: 'PAYMENT_PROVIDER_ERROR', message: 'Stripe returned a PaymentIntent without a client secret', nonRetryable: true });
      return { paymentIntentId: intent.id, clientSecret: intent.client_secret };
    },

    /**
     * At the deadline: ask Stripe how the payment stands before cancelling it. A payment that succeeded
     * (its webhook late or lost) is reported, never cancelled; one still processing is left to finish.
     * A PaymentIntent Stripe no longer has can never be paid: it counts as cancelled. Any other refusal
     * is retried (not an asStripeCall): the PaymentIntent stays payable until it is cancelled here.
     */
    async settleUnpaidPayment(input: { purchaseId: string; paymentIntentId: string }): Promise<'succeeded' | 'processing' | 'canceled'> {
      const intent = await stripe.paymentIntents.retrieve(input.paymentIntentId).catch((err: unknown) => {
        if (stripeErrorCode(err) === 'resource_missing') return undefined;
        throw err;
      });
      if (!intent || intent.status === 'canceled') return 'canceled';
      if (intent.status === 'succeeded') return 'succeeded';
      if (intent.status === 'processing' || intent.status === 'requires_capture') return 'processing';
      try {
        await stripe.paymentIntents.cancel(input.paymentIntentId, {}, { idempotencyKey: `purchase:${input.purchaseId}:cancel` });
      } catch (err) {
        // Paid or processing since it was read: the retry reads how it stands now.
        if (stripeErrorCode(err) === 'payment_intent_unexpected_state') throw ApplicationFailure.retryable('The PaymentIntent changed state before it could be cancelled');
        throw err;
      }
      return 'canceled';
    },

    recordPurchaseStep: (step: PurchaseStep) => recordPurchaseStep(pool, step),

    /** The purchase with its history: a refund workflow reads what earlier runs took into account. */
    findPurchase: (cooperativeId: string, purchaseId: string) => findPurchase(pool, cooperativeId, purchaseId),
  };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
