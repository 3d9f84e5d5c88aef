import { MalformedEventError, readStripeEvent } from '../../api/stripe-events';

const event = (type: string, object: unknown, id: unknown = 'evt_1') => ({ id, object: 'event', type, data: { object } });
const mapped = (type: string, object: unknown) => readStripeEvent(event(type, object)).mapped;

describe('readStripeEvent', () => {
  it('maps the events that concern a purchase', () => {
    expect(mapped('payment_intent.succeeded', { id: 'pi_1', metadata: { purchaseId: 'p-1' } })).toEqual({ kind: 'succeeded', paymentIntentId: 'pi_1', purchaseId: 'p-1' });
    expect(mapped('payment_intent.payment_failed', { id: 'pi_1' })).toMatchObject({ kind: 'failed', paymentIntentId: 'pi_1' });
    expect(mapped('checkout.session.completed', { payment_intent: 'pi_2', payment_status: 'paid' })).toMatchObject({ kind: 'succeeded', paymentIntentId: 'pi_2' });
    expect(mapped('charge.refunded', { payment_intent: { id: 'pi_3' }, amount_refunded: 1500 })).toEqual({ kind: 'refunded', paymentIntentId: 'pi_3', cents: 1500n });
    expect(mapped('charge.dispute.created', { payment_intent: 'pi_4', amount: 700 })).toEqual({ kind: 'disputed', paymentIntentId: 'pi_4', cents: 700n });
  });

  it('ignores unpaid checkouts, charges without a payment intent and other event types', () => {
    expect(mapped('checkout.session.completed', { payment_intent: 'pi_2', payment_status: 'unpaid' })).toBeUndefined();
    expect(mapped('charge.refunded', { payment_intent: null, amount_refunded: 10 })).toBeUndefined();
    expect(readStripeEvent(event('customer.created', { id: 'cus_1' }))).toMatchObject({ id: 'evt_1', type: 'customer.created', mapped: undefined });
  });

  it('refuses only what is not a Stripe event at all: nothing to record it by', () => {
    const bad: unknown[] = [
      { type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } },
      event('payment_intent.succeeded', { id: 'pi_1' }, 42),
      event('payment_intent.succeeded', { id: 'pi_1' }, 'evt_\u0000'),
      event('payment_intent.succeeded', 'not an object'),
      { id: 'evt_1', type: 'payment_intent.succeeded', data: {} },
      { id: 'evt_1', type: 'payment_intent.\u0000', data: { object: {} } },
      null,
    ];
    for (const payload of bad) expect(() => readStripeEvent(payload)).toThrow(MalformedEventError);
  });

  it('reads an event of a type we act on that lacks what we act on as unreadable, to be recorded', () => {
    const unreadable: unknown[] = [
      event('payment_intent.succeeded', { id: 'pi_\u0000' }),
      event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 1.5 }),
      event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: '100' }),
      event('charge.dispute.created', { payment_intent: 'pi_1', amount: -1 }),
    ];
    for (const payload of unreadable) expect(readStripeEvent(payload)).toMatchObject({ id: 'evt_1', mapped: undefined, unreadable: expect.stringContaining('lacks what it must carry') });
  });

  it('maps an event whose customer-controlled text the database cannot hold, and keeps a storable copy of it', () => {
    const received = event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 700, billing_details: { name: 'Ann\u0000e \ud800', ['k\u0000']: ['\udc00'] }, metadata: { purchaseId: 'p-1' } });
    const read = readStripeEvent(received);
    expect(read.mapped).toEqual({ kind: 'refunded', paymentIntentId: 'pi_1', purchaseId: 'p-1', cents: 700n });
    expect((read.payload as { data: { object: { billing_details: unknown } } }).data.object.billing_details).toEqual({ name: 'Ann\ufffde \ufffd', ['k\ufffd']: ['\ufffd'] });
    expect(read.unreadable).toBeUndefined();
  });
});
