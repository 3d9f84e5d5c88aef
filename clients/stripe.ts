import Stripe from 'stripe';
import type { Config } from '../config/config';

/** The Stripe client: Stripe itself, or stripe-mock (host, port, protocol) locally and in tests. */
export function createStripeClient(stripe: Config['stripe']): Stripe {
  return new Stripe(stripe.secretKey, { host: stripe.host, port: stripe.port, protocol: stripe.protocol, maxNetworkRetries: 2, timeout: 20_000 });
}
