import { type ActivityOptions, condition, defineQuery, defineSignal, defineUpdate, log, patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';
import type { PaymentActivities } from '../activities/payments';
import type { PaymentEventKind, PurchaseStatus } from '../domain/credit-purchase';
import { unlessFailed } from './activity-outcome';
import { deadLetterSettlements, handOverToDeadLetter } from './dead-letter-handover';
import { BusinessStatus, CooperativeId, MemberId } from './search-attributes';

export interface CreditPurchaseInput {
  purchaseId: string;
  cooperativeId: string;
  memberId: string;
  /** µCLOUD to mint once paid. */
  amount: bigint;
  amountCents: bigint;
  /** How long to wait for the payment before cancelling it (default 24 hours). */
  paymentTimeoutMs?: number;
  /** How long after minting a refund or dispute is still clawed back (default 120 days, Stripe's dispute window). */
  refundWindowMs?: number;
  /** Delays of the dead-letter queue's automatic retries of a ledger write that failed beyond its own (default 60 s, 300 s, 1,800 s). */
  deadLetterRetryDelaysMs?: number[];
}

/** A Stripe webhook event, as the webhook endpoint signals it. */
export interface PaymentEvent {
  eventId: string;
  kind: PaymentEventKind;
  paymentIntentId: string;
  /** For refunds: cents refunded so far in total. For disputes: cents disputed. */
  cents?: bigint;
}

export interface CreditPurchaseState {
  status: PurchaseStatus;
  paymentIntentId?: string;
  clientSecret?: string;
  mintTransactionId?: string;
  clawedBackCents: bigint;
  /** The dead-letter item of a mint that failed beyond its retries. */
  deadLetterItemId?: string;
}

export const paymentEvent = defineSignal<[PaymentEvent]>('paymentEvent');
export const creditPurchaseStatus = defineQuery<CreditPurchaseState>('status');
/** Completes once the payment exists and is recorded, so the API can answer with what the member pays with. */
export const paymentReady = defineUpdate<CreditPurchaseState>('paymentReady');
export const creditPurchaseWorkflowId = (purchaseId: string) => `credit-purchase:${purchaseId}`;

const DAY = 86_400_000;

// As ordinary activities: the purchase's refund workflow (workflows/purchase-refund.ts) uses them, the
// deadline's settleUnpaidPayment is one, and purchases started before decision 0028 replay them.
// 30 s holds a Stripe call's three tries of 8 s each (clients/stripe.ts), so a slow answer is not cut
// short and repeated. Stripe's lasting refusals (PAYMENT_PROVIDER_ERROR) are never retried; the rest are.
const paymentStep: ActivityOptions = { startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['PAYMENT_PROVIDER_ERROR'] } };
export const { createPaymentIntent, settleUnpaidPayment, recordPurchaseStep, findPurchase } = proxyActivities<PaymentActivities>(paymentStep);
// A ledger write takes milliseconds: a short timeout lets a write lost with a killed worker be retried soon.
// Its retries are bounded (about four minutes of them): a write still failing then goes to the
// dead-letter queue rather than failing the paid purchase (decision 0014).
const ledgerWrite: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: ['VALIDATION_ERROR', 'CONFLICT', 'NOT_FOUND'] },
};
export const { mintCredits, refundClawback } = proxyActivities<LedgerActivities>(ledgerWrite);

// A purchase's own steps run as local activities (decision 0028): the PaymentIntent and its record are
// made in the workflow task that started the workflow, so Update-With-Start answers the API from that
// one task, and a paid purchase mints and completes in one more. Each step is idempotent by the purchase
// (Stripe's idempotency key, the step key, the mint's key): a worker killed mid-task runs them again, once.
const local = {
  payments: proxyLocalActivities<PaymentActivities>(paymentStep),
  ledger: proxyLocalActivities<LedgerActivities>(ledgerWrite),
};

/**
 * One card purchase: create the Stripe payment, wait for the webhook's outcome or the deadline, mint
 * once, and complete; refunds and disputes go to workflows/purchase-refund.ts. (Purchases started
 * before decision 0021 claw back refunds themselves until their refund window closes.) Webhooks may arrive twice,
 * late, early or out of order: events are taken once by id, and every ledger write is keyed by the purchase.
 * A ledger write that fails beyond its retries after the payment goes to the dead-letter queue: the
 * purchase waits for a mint's outcome there, and leaves a clawback to it (decision 0014).
 */
export async function creditPurchase(input: CreditPurchaseInput): Promise<CreditPurchaseState> {
  const state: CreditPurchaseState = { status: 'creating_payment', clawedBackCents: 0n };
  const seen = new Set<string>();
  // Successes and failures, judged against the purchase's own PaymentIntent once it is known: an event
  // may name this purchase in metadata Stripe copied from another PaymentIntent.
  const outcomes: PaymentEvent[] = [];
  const refunds: PaymentEvent[] = [];
  /** The Update answers once the purchase is payable, or has ended without a payment to make. */
  let answerable = false;
  setHandler(creditPurchaseStatus, () => state);
  const deadLetters = deadLetterSettlements();
  setHandler(paymentReady, async () => {
    await condition(() => answerable);
    return state;
  });
  setHandler(paymentEvent, (event) => {
    if (seen.has(event.eventId)) return;
    seen.add(event.eventId);
    if (event.kind === 'succeeded' || event.kind === 'failed') outcomes.push(event);
    else refunds.push(event);
  });
  // Purchases started before decision 0028 replay their steps as the (remote) activities their histories hold.
  const steps = patched('purchase-local-steps')
    ? { createPaymentIntent: local.payments.createPaymentIntent, recordPurchaseStep: local.payments.recordPurchaseStep, mintCredits: local.ledger.mintCredits }
    : { createPaymentIntent, recordPurchaseStep, mintCredits };
  const step = (key: string, status: PurchaseStatus, extra: Omit<Parameters<typeof recordPurchaseStep>[0], 'cooperativeId' | 'purchaseId' | 'step' | 'status'> = {}) => {
    state.status = status;
    upsertSearchAttributes([{ key: BusinessStatus, value: status }]);
    return steps.recordPurchaseStep({ cooperativeId: input.cooperativeId, purchaseId: input.purchaseId, step: key, status, ...extra });
  };
  upsertSearchAttributes([
    { key: CooperativeId, value: input.cooperativeId },
    { key: MemberId, value: input.memberId },
    { key: BusinessStatus, value: state.status },
  ]);

  // Only Stripe's lasting refusal ends the step (anything else is retried): the purchase fails, and the
  // Update answers with it, so the POST reports it at once instead of waiting on a payment never made.
  const created = await unlessFailed(() => steps.createPaymentIntent({ purchaseId: input.purchaseId, cooperativeId: input.cooperativeId, memberId: input.memberId, amountCents: input.amountCents }));
  if (created.error !== undefined) {
    await step('payment-refused', 'failed', { detail: { reason: created.error } });
    answerable = true;
    return state;
  }
  const intent = created.value;
  state.paymentIntentId = intent.paymentIntentId;
  state.clientSecret = intent.clientSecret;
  await step('payment-created', 'awaiting_payment', { detail: { paymentIntentId: intent.paymentIntentId }, set: intent });
  answerable = true;

  // A failed attempt is recorded and the member may try again until the deadline. At the deadline
  // Stripe is asked how the payment stands: a success whose webhook is late still mints, and a payment
  // still processing gets another period.
  const timeout = input.paymentTimeoutMs ?? DAY;
  let deadline = Date.now() + timeout;
  let paidBy: string | undefined;
  while (!paidBy) {
    await condition(() => outcomes.length > 0, Math.max(deadline - Date.now(), 0));
    for (let event = outcomes.shift(); event; event = outcomes.shift()) {
      // Another PaymentIntent's outcome is recorded for operators and changes nothing (histories from before this check took it).
      if (event.paymentIntentId !== intent.paymentIntentId && patched('purchase-own-payment-intent-only')) {
        log.warn('payment event for another PaymentIntent ignored', { purchaseId: input.purchaseId, eventId: event.eventId, eventPaymentIntentId: event.paymentIntentId });
        await step(event.eventId, 'awaiting_payment', { detail: { ignored: 'another PaymentIntent', kind: event.kind, paymentIntentId: event.paymentIntentId } });
      } else if (event.kind === 'failed') await step(event.eventId, 'awaiting_payment', { detail: { paymentFailed: true } });
      else paidBy ??= event.eventId;
    }
    if (!paidBy && Date.now() >= deadline) {
      // Retried until Stripe answers, a refusal included (a revoked key is fixed by an operator): the
      // PaymentIntent is open until this cancels it, and a purchase ended before would miss its payment.
      const settled = await settleUnpaidPayment({ purchaseId: input.purchaseId, paymentIntentId: intent.paymentIntentId });
      if (settled === 'succeeded') paidBy = 'stripe-status-at-deadline';
      else if (settled === 'processing') deadline = Date.now() + timeout;
      else {
        await step('expired', 'expired', { detail: { reason: 'no successful payment before the deadline' } });
        return state;
      }
    }
  }

  const mint = {
    cooperativeId: input.cooperativeId,
    memberId: input.memberId,
    amount: input.amount,
    source: 'purchase' as const,
    sourceId: intent.paymentIntentId,
    idempotencyKey: `purchase:${input.purchaseId}:mint`,
    metadata: { purchaseId: input.purchaseId, stripeEventId: paidBy },
  };
  const first = await unlessFailed(() => steps.mintCredits(mint));
  if (first.error !== undefined) {
    // Paid but not minted: the queue retries the mint under its key, and an operator decides if that fails too.
    state.deadLetterItemId = await deadLetters.handOver({
      operationType: 'mint_credits', businessKey: mint.idempotencyKey, cooperativeId: input.cooperativeId, payload: mint, lastError: first.error, retryDelaysMs: input.deadLetterRetryDelaysMs,
    });
    // The member sees that the mint is in the queue; the error itself is for operators, on the item.
    await step('mint-failed', 'mint_failed', { detail: { deadLetterItemId: state.deadLetterItemId } });
    const settled = await deadLetters.settlement(state.deadLetterItemId);
    if (settled !== 'succeeded') {
      // Resolved or discarded by an operator: nothing was minted under the key, so nothing here can be clawed back either.
      await step(`mint-${settled}`, 'mint_failed', { detail: { deadLetterItemId: state.deadLetterItemId, deadLetterStatus: settled } });
      return state;
    }
  }
  // After a successful retry in the queue, the same request under the same key replays that mint.
  const minted = first.error === undefined ? first.value : await steps.mintCredits(mint);
  state.mintTransactionId = minted.transaction.id;
  const windowEnd = Date.now() + (input.refundWindowMs ?? 120 * DAY);
  // Minted: the purchase is done. Refunds and disputes, whenever they come, start the purchase's refund
  // workflow (workflows/purchase-refund.ts), which reads the window's end from this step (decision 0021).
  // Purchases started before that change keep their window open below, as their histories say.
  const completesWhenMinted = patched('purchase-completes-when-minted');
  await step('minted', 'minted', { detail: { stripeEventId: paidBy, ...(completesWhenMinted ? { refundWindowEndsAt: windowEnd } : {}) }, set: { mintTransaction: minted.transaction.id } });
  if (completesWhenMinted) return state;

  // A refund event reports the total refunded so far; each dispute the amount it disputes. What is owed
  // back is their sum (capped at the purchase); only the increase is clawed back, once.
  let refundedCents = 0n;
  let disputedCents = 0n;
  while (Date.now() < windowEnd && state.clawedBackCents < input.amountCents) {
    if (!(await condition(() => refunds.length > 0, windowEnd - Date.now()))) break;
    const event = refunds.shift()!;
    const cents = event.cents ?? input.amountCents;
    if (event.kind === 'refunded') refundedCents = cents > refundedCents ? cents : refundedCents;
    else disputedCents += cents;
    const owed = refundedCents + disputedCents;
    const target = owed < input.amountCents ? owed : input.amountCents;
    if (target <= state.clawedBackCents) continue;
    const clawback = {
      cooperativeId: input.cooperativeId,
      memberId: input.memberId,
      amount: (target - state.clawedBackCents) * 1_000n,
      paymentSourceId: intent.paymentIntentId,
      idempotencyKey: `purchase:${input.purchaseId}:clawback-to:${target}`,
    };
    const clawed = await unlessFailed(() => refundClawback(clawback));
    // Each clawback takes its own increase, so one left to the queue needs nothing from those that follow.
    const deadLetterItemId = clawed.error === undefined ? undefined : await handOverToDeadLetter({
      operationType: 'refund_clawback', businessKey: clawback.idempotencyKey, cooperativeId: input.cooperativeId, payload: clawback, lastError: clawed.error, retryDelaysMs: input.deadLetterRetryDelaysMs,
    });
    state.clawedBackCents = target;
    await step(event.eventId, 'refunded', { detail: { kind: event.kind, refundedCents: target.toString(), ...(deadLetterItemId ? { deadLetterItemId } : {}) }, set: { refundedCents: target } });
  }
  return state;
}
