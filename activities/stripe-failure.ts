import { ApplicationFailure } from '@temporalio/activity';
import Stripe from 'stripe';

/** Stripe's answers that asking again cannot change: a request, key or account it refuses. 409 (a concurrent idempotent request) and 429 pass in time. */
const PERMANENT_STATUSES = new Set([400, 401, 402, 403, 404]);

/** The code of Stripe's refusal (`resource_missing`, `payment_intent_unexpected_state`, …), if it is one. */
export const stripeErrorCode = (err: unknown): string | undefined => (err instanceof Stripe.errors.StripeError ? err.code : undefined);

/**
 * Runs a Stripe call so that a refusal Stripe will repeat forever is final for Temporal: it fails with
 * the type PAYMENT_PROVIDER_ERROR, never retried. Anything else (5xx, 409, 429, no connection) retries.
 */
export async function asStripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeIdempotencyError || (err instanceof Stripe.errors.StripeError && err.statusCode !== undefined && PERMANENT_STATUSES.has(err.statusCode))) {
      const { type, statusCode, code } = err as Stripe.errors.StripeError;
      // The message names the refusal only: it reaches the purchase's history, which the member reads. Stripe's own words are for operators, in the details.
      throw ApplicationFailure.create({ type: 'PAYMENT_PROVIDER_ERROR', message: `Stripe refused the request (${[type, statusCode, code].filter(Boolean).join(' ')})`, details: [err.message], nonRetryable: true });
    }
    throw err;
  }
}
