import Stripe from 'stripe';
import type { Config } from '../config/config';

/**
 * The Stripe client: Stripe itself, or stripe-mock (host, port, protocol) locally and in tests. A call
 * tries three times, 8 s each, with under 2 s of pauses between: it ends within the 30 s its activity
 * is given (workflows/credit-purchase.ts), so the activity never times out on a call still running.
 */
export function createStripeClient(stripe: Config['stripe']): Stripe {
  return new Stripe(stripe.secretKey, { host: stripe.host, port: stripe.port, protocol: stripe.protocol, maxNetworkRetries: 2, timeout: 8_000 });
}
