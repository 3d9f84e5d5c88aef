import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import Stripe from 'stripe';
import { loadConfig } from '../config/config';

/**
 * Signs a Stripe webhook event with STRIPE_WEBHOOK_SECRET, as Stripe would, and posts it to the local
 * API: `npm run webhook -- --payment-intent pi_… [--type payment_intent.succeeded|payment_intent.payment_failed|charge.refunded|charge.dispute.created] [--cents N]`.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'payment-intent': { type: 'string' }, type: { type: 'string', default: 'payment_intent.succeeded' }, cents: { type: 'string' }, url: { type: 'string' } } });
  const pi = values['payment-intent'];
  if (!pi) throw new Error('--payment-intent pi_… is required (it is in the purchase response)');
  const config = loadConfig();
  const objects: Record<string, Record<string, unknown>> = {
    'payment_intent.succeeded': { id: pi, object: 'payment_intent', status: 'succeeded' },
    'payment_intent.payment_failed': { id: pi, object: 'payment_intent', status: 'requires_payment_method' },
    'charge.refunded': { id: `ch_${randomUUID().slice(0, 12)}`, object: 'charge', payment_intent: pi, amount_refunded: Number(values.cents ?? 0) },
    'charge.dispute.created': { id: `dp_${randomUUID().slice(0, 12)}`, object: 'dispute', payment_intent: pi, amount: Number(values.cents ?? 0) },
  };
  const object = objects[values.type!];
  if (!object) throw new Error(`--type must be one of ${Object.keys(objects).join(', ')}`);
  const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: values.type, data: { object } });
  const signature = new Stripe(config.stripe.secretKey).webhooks.generateTestHeaderString({ payload, secret: config.stripe.webhookSecret });
  const res = await fetch(values.url ?? `http://127.0.0.1:${config.api.port}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`webhook failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
