import { z } from 'zod';
import type { PaymentEventKind } from '../domain/credit-purchase';
import { unstorablePath } from '../domain/text';

export interface MappedEvent {
  kind: PaymentEventKind;
  paymentIntentId: string;
  /** Our purchase id from the PaymentIntent's metadata, when the event carries it. */
  purchaseId?: string;
  /** Refunds: total cents refunded so far. Disputes: cents disputed. */
  cents?: bigint;
}

/** A verified Stripe event we can record, and what it means for a purchase (undefined for events that concern none). */
export interface ReadEvent {
  id: string;
  type: string;
  mapped: MappedEvent | undefined;
}

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

const StripeId = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/);
const Ref = z.union([StripeId, z.object({ id: StripeId })]).nullish();
const Cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Metadata = z.record(z.string(), z.string()).nullish();

const Envelope = z.object({ id: StripeId, type: z.string().min(1).max(255), data: z.object({ object: z.record(z.string(), z.unknown()) }) });
/** The fields each event we act on must carry, as Stripe documents them. */
const OBJECTS = {
  'payment_intent.succeeded': z.object({ id: StripeId, metadata: Metadata }),
  'payment_intent.payment_failed': z.object({ id: StripeId, metadata: Metadata }),
  'checkout.session.completed': z.object({ payment_intent: Ref, payment_status: z.string().nullish(), metadata: Metadata }),
  'charge.refunded': z.object({ payment_intent: Ref, amount_refunded: Cents }),
  'charge.dispute.created': z.object({ payment_intent: Ref, amount: Cents }),
} as const;

const idOf = (v: z.infer<typeof Ref>) => (typeof v === 'string' ? v : v?.id);

/**
 * Reads a Stripe event whose signature was verified: its envelope and, for the events that concern a
 * purchase, the fields we act on. A structurally invalid event is a MalformedEventError: refused with
 * 400 and recorded nowhere, however validly it was signed.
 */
export function readStripeEvent(payload: unknown): ReadEvent {
  const where = unstorablePath(payload, ['event']);
  if (where !== undefined) throw new MalformedEventError(`${where} holds a NUL character or invalid Unicode`);
  const envelope = Envelope.safeParse(payload);
  if (!envelope.success) throw new MalformedEventError(`the event is not a Stripe event: ${envelope.error.issues[0]?.path.join('.')} ${envelope.error.issues[0]?.message}`);
  const { id, type, data } = envelope.data;
  const schema = OBJECTS[type as keyof typeof OBJECTS];
  if (!schema) return { id, type, mapped: undefined };
  const parsed = schema.safeParse(data.object);
  if (!parsed.success) throw new MalformedEventError(`${type} lacks what it must carry: data.object.${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  return { id, type, mapped: mapObject(type as keyof typeof OBJECTS, parsed.data) };
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
      return pi ? { kind: 'refunded', paymentIntentId: pi, cents: BigInt(o.amount_refunded) } : undefined;
    }
    case 'charge.dispute.created': {
      const o = object as z.infer<(typeof OBJECTS)['charge.dispute.created']>;
      const pi = idOf(o.payment_intent);
      return pi ? { kind: 'disputed', paymentIntentId: pi, cents: BigInt(o.amount) } : undefined;
    }
  }
}
