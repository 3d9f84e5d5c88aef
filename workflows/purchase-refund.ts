import { condition, log, patched, setHandler, sleep } from '@temporalio/workflow';
import { owedCents, recordedRefunds } from '../domain/credit-purchase';
import { unlessFailed } from './activity-outcome';
import { findPurchase, paymentEvent, recordPurchaseStep, refundClawback, type PaymentEvent } from './credit-purchase';
import { handOverToDeadLetter } from './dead-letter-handover';

export interface PurchaseRefundInput {
  purchaseId: string;
  cooperativeId: string;
  /** Delays of the dead-letter queue's retries of a clawback that failed beyond its own (default 60 s, 300 s, 1,800 s). */
  deadLetterRetryDelaysMs?: number[];
}

export const purchaseRefundWorkflowId = (purchaseId: string) => `purchase-refund:${purchaseId}`;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** How long a refund waits for its purchase's mint before giving up (nothing minted, nothing to claw back). */
const MINT_WAIT_MS = 30 * 24 * HOUR;
/** Refund and dispute events come in bursts (a refund, then its charge update): the workflow takes those that follow within this. */
const LINGER_MS = MINUTE;

/**
 * The refunds and disputes of one purchase, started by the Stripe webhook with signal-with-start keyed
 * by the purchase, whenever they come: the purchase's own workflow ends once minted (decision 0021).
 * What earlier runs took into account is read from the purchase's history, so each event is taken once
 * and only the increase of what is owed is clawed back, under the same keys the purchase workflow used.
 * The workflow ends when no event has come for a minute.
 */
export async function purchaseRefund(input: PurchaseRefundInput): Promise<{ clawedBackCents: bigint }> {
  const events: PaymentEvent[] = [];
  setHandler(paymentEvent, (event) => {
    if (event.kind === 'refunded' || event.kind === 'disputed') events.push(event);
  });

  // Credits are clawed back from what was minted: a refund that overtakes the mint waits for it.
  let purchase = await findPurchase(input.cooperativeId, input.purchaseId);
  // Checked every minute at first, then at most hourly (a mint in the dead-letter queue waits for an operator).
  for (let waited = 0; purchase && purchase.status !== 'minted' && purchase.status !== 'refunded'; ) {
    if (purchase.status === 'expired' || purchase.status === 'failed' || waited >= MINT_WAIT_MS) return { clawedBackCents: 0n };
    const pause = Math.min(Math.max(waited, MINUTE), HOUR);
    await sleep(pause);
    waited += pause;
    purchase = await findPurchase(input.cooperativeId, input.purchaseId);
  }
  if (!purchase) return { clawedBackCents: 0n };
  const p = purchase;

  const recorded = recordedRefunds(p.history);
  const taken = new Set(recorded.eventIds);
  let { refundedCents, disputedCents } = recorded;
  let clawedBackCents = p.refundedCents;
  while (await condition(() => events.length > 0, LINGER_MS)) {
    const event = events.shift()!;
    if (taken.has(event.eventId)) continue;
    taken.add(event.eventId);
    // Only the purchase's own payment is clawed back for: metadata naming it may sit on anyone's charge.
    if (event.paymentIntentId !== p.paymentIntentId && patched('refund-own-payment-intent-only')) {
      log.warn('refund event for another PaymentIntent ignored', { purchaseId: input.purchaseId, eventId: event.eventId, eventPaymentIntentId: event.paymentIntentId });
      continue;
    }
    // Past the refund window the payment's refund is Stripe's and the cash's business, not the credits'.
    if (recorded.refundWindowEndsAt !== undefined && Date.now() >= recorded.refundWindowEndsAt) continue;
    const cents = event.cents ?? p.amountCents;
    if (event.kind === 'refunded') refundedCents = cents > refundedCents ? cents : refundedCents;
    else disputedCents += cents;
    const target = owedCents(refundedCents, disputedCents, p.amountCents);
    let deadLetterItemId: string | undefined;
    if (target > clawedBackCents) {
      const clawback = {
        cooperativeId: input.cooperativeId,
        memberId: p.memberId,
        amount: (target - clawedBackCents) * 1_000n,
        paymentSourceId: p.paymentIntentId!,
        idempotencyKey: `purchase:${input.purchaseId}:clawback-to:${target}`,
      };
      const clawed = await unlessFailed(() => refundClawback(clawback));
      // Each clawback takes its own increase, so one left to the queue needs nothing from those that follow.
      if (clawed.error !== undefined) {
        deadLetterItemId = await handOverToDeadLetter({
          operationType: 'refund_clawback', businessKey: clawback.idempotencyKey, cooperativeId: input.cooperativeId, payload: clawback, lastError: clawed.error, retryDelaysMs: input.deadLetterRetryDelaysMs,
        });
      }
      clawedBackCents = target;
    }
    // Recorded even when nothing more is owed: the next run counts this event's amount, once.
    await recordPurchaseStep({
      cooperativeId: input.cooperativeId, purchaseId: input.purchaseId, step: event.eventId, status: clawedBackCents > 0n ? 'refunded' : p.status,
      detail: { kind: event.kind, cents: cents.toString(), refundedCents: clawedBackCents.toString(), ...(deadLetterItemId ? { deadLetterItemId } : {}) },
      set: { refundedCents: clawedBackCents },
    });
  }
  return { clawedBackCents };
}
