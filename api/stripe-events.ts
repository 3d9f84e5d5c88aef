import { z } from 'zod';
import type { PaymentEventKind } from '../domain/credit-purchase';
import { storableCopy } from '../domain/text';

export interface MappedEvent {
  kind: PaymentEventKind;
  paymentIntentId: string;
  /** Our purchase id from the metadata the PaymentIntent was created with, when the event carries it. */
  purchaseId?: string;
  /** Refunds: total cents refunded so far. Disputes: cents disputed. */
  cents?: bigint;
}

/** A verified Stripe event, as we record it, and what it means for a purchase (undefined for events that concern none). */
export interface ReadEvent {
  id: string;
  type: string;
  mapped: MappedEvent | undefined;
  /** Why an event of a type we act on lacks what we act on: recorded for operators, never refused (Stripe would resend it for days). */
  unreadable?: string;
  /** The event with every string storable (a customer's name may hold a NUL): what is recorded, and what was read. */
  payload: unknown;
}

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

const StripeId = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/);
const Ref = z.union([StripeId, z.object({ id: StripeId })]).nullish();
const Cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Metadata = z.record(z.string(), z.string()).nullish();

const Envelope = z.object({ id: StripeId, type: StripeId, data: z.object({ object: z.record(z.string(), z.unknown()) }) });
/**
 * The fields each event we act on must carry, as Stripe documents them. A charge carries the metadata
 * its PaymentIntent had when confirmed (Stripe copies it), so a refund finds its purchase by it too.
 */
const OBJECTS = {
  'payment_intent.succeeded': z.object({ id: StripeId, metadata: Metadata }),
  'payment_intent.payment_failed': z.object({ id: StripeId, metadata: Metadata }),
  'checkout.session.completed': z.object({ payment_intent: Ref, payment_status: z.string().nullish(), metadata: Metadata }),
  'charge.refunded': z.object({ payment_intent: Ref, amount_refunded: Cents, metadata: Metadata }),
  'charge.dispute.created': z.object({ payment_intent: Ref, amount: Cents }),
} as const;

const idOf = (v: z.infer<typeof Ref>) => (typeof v === 'string' ? v : v?.id);

/**
 * Reads a Stripe event whose signature was verified: its envelope and, for the events that concern a
 * purchase, the fields we act on. Only what is not a Stripe event at all (no usable id, type or object:
 * nothing to record it by, and Stripe never sends one) is a MalformedEventError, refused with 400. Text
 * the database cannot hold is replaced, and an event of a type we act on that lacks what we act on is
 * `unreadable`: both are recorded and acknowledged, never refused.
 */
export function readStripeEvent(received: unknown): ReadEvent {
  const envelope = Envelope.safeParse(received);
  if (!envelope.success) throw new MalformedEventError(`the event is not a Stripe event: ${envelope.error.issues[0]?.path.join('.')} ${envelope.error.issues[0]?.message}`);
  const { id, type } = envelope.data;
  const payload = storableCopy(received) as z.infer<typeof Envelope>;
  const schema = OBJECTS[type as keyof typeof OBJECTS];
  if (!schema) return { id, type, mapped: undefined, payload };
  const parsed = schema.safeParse(payload.data.object);
  if (!parsed.success) {
    return { id, type, mapped: undefined, unreadable: `${type} lacks what it must carry: data.object.${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`, payload };
  }
  return { id, type, mapped: mapObject(type as keyof typeof OBJECTS, parsed.data), payload };
}

function mapObject(type: keyof typeof OBJECTS, object: Record<string, unknown>): MappedEvent | undefined {
  switch (type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed': {
      const o = object as z.infer<(typeof OBJECTS)['payment_intent.succeeded']>;
      return { kind: type === 'payment_intent.succeeded' ? 'succeeded' : 'failed', paymentIntentId: o.id, purchaseId: o.metadata?.purchaseId };
    }
    case 'checkout.session.completed': {
      const o = object as z.infer<(typeof OBJECTS)['checkout.session.completed']>;
      const pi = idOf(o.payment_intent);
      return pi && o.payment_status === 'paid' ? { kind: 'succeeded', paymentIntentId: pi, purchaseId: o.metadata?.purchaseId } : undefined;
    }
    case 'charge.refunded': {
      const o = object as z.infer<(typeof OBJECTS)['charge.refunded']>;
      const pi = idOf(o.payment_intent);
      return pi ? { kind: 'refunded', paymentIntentId: pi, purchaseId: o.metadata?.purchaseId, cents: BigInt(o.amount_refunded) } : undefined;
    }
    case 'charge.dispute.created': {
      const o = object as z.infer<(typeof OBJECTS)['charge.dispute.created']>;
      const pi = idOf(o.payment_intent);
      return pi ? { kind: 'disputed', paymentIntentId: pi, cents: BigInt(o.amount) } : undefined;
    }
  }
}
