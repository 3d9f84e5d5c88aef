import type Stripe from 'stripe';
import { mapStripeEvent } from '../../api/stripe-events';

const event = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', object: 'event', type, data: { object } }) as unknown as Stripe.Event;

describe('mapStripeEvent', () => {
  it('maps the events that concern a purchase', () => {
    expect(mapStripeEvent(event('payment_intent.succeeded', { id: 'pi_1', metadata: { purchaseId: 'p-1' } }))).toEqual({ kind: 'succeeded', paymentIntentId: 'pi_1', purchaseId: 'p-1' });
    expect(mapStripeEvent(event('payment_intent.payment_failed', { id: 'pi_1' }))).toMatchObject({ kind: 'failed', paymentIntentId: 'pi_1' });
    expect(mapStripeEvent(event('checkout.session.completed', { payment_intent: 'pi_2', payment_status: 'paid' }))).toMatchObject({ kind: 'succeeded', paymentIntentId: 'pi_2' });
    expect(mapStripeEvent(event('charge.refunded', { payment_intent: { id: 'pi_3' }, amount_refunded: 1500 }))).toEqual({ kind: 'refunded', paymentIntentId: 'pi_3', cents: 1500n });
    expect(mapStripeEvent(event('charge.dispute.created', { payment_intent: 'pi_4', amount: 700 }))).toEqual({ kind: 'disputed', paymentIntentId: 'pi_4', cents: 700n });
  });

  it('ignores unpaid checkouts, charges without a payment intent and other event types', () => {
    expect(mapStripeEvent(event('checkout.session.completed', { payment_intent: 'pi_2', payment_status: 'unpaid' }))).toBeUndefined();
    expect(mapStripeEvent(event('charge.refunded', { payment_intent: null, amount_refunded: 10 }))).toBeUndefined();
    expect(mapStripeEvent(event('customer.created', { id: 'cus_1' }))).toBeUndefined();
  });
});
