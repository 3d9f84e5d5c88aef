import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import express, { Router } from 'express';
import type Stripe from 'stripe';
import { findPurchaseForPayment } from '../../db/credit-purchases';
import { markStripeEventSignalled, recordStripeEvent } from '../../db/stripe-events';
import { creditPurchaseWorkflowId, paymentEvent } from '../../workflows/credit-purchase';
import { purchaseRefund, purchaseRefundWorkflowId } from '../../workflows/purchase-refund';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { temporalCall } from '../await-workflow';
import { MalformedEventError, readStripeEvent, type ReadEvent } from '../stripe-events';

/**
 * `POST /v1/webhooks/stripe`. The signature is verified over the raw body, before anything else; each
 * signed event is then recorded once by id before the purchase's workflow is signalled, and the answer
 * is fast: the workflow does the work. An event that is unreadable, or for no purchase of ours, is
 * recorded with its problem, logged and acknowledged: refusing it would only make Stripe resend it for
 * days (decision 0036).
 */
export function stripeWebhookRouter(deps: ApiDependencies, registry: OpenAPIRegistry): Router {
  const router = Router();
  router.post('/v1/webhooks/stripe', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const signature = req.headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      if (typeof signature !== 'string' || !Buffer.isBuffer(req.body)) throw new Error('missing signature or body');
      event = deps.stripe.webhooks.constructEvent(req.body, signature, deps.config.stripe.webhookSecret);
    } catch {
      throw new ApiError('VALIDATION_ERROR', 'Invalid Stripe signature');
    }
    let read: ReadEvent;
    try {
      read = readStripeEvent(event);
    } catch (err) {
      if (err instanceof MalformedEventError) throw new ApiError('VALIDATION_ERROR', `Malformed Stripe event: ${err.message}`);
      throw err;
    }
    const { id, type, mapped } = read;
    const purchase = mapped ? await findPurchaseForPayment(deps.pool, mapped) : undefined;
    const problem = read.unreadable ?? (mapped && !purchase ? `no purchase of ours has PaymentIntent ${mapped.paymentIntentId}` : undefined);
    const { needsSignal } = await recordStripeEvent(deps.pool, { id, type, purchaseId: purchase?.id ?? null, payload: read.payload, problem });
    // A stable message operators alert on; the event's row says the same (stripe_events.problem).
    if (problem) req.log.warn({ eventId: id, type, problem }, 'stripe event not applied');
    if (mapped && purchase && needsSignal) {
      const { kind, paymentIntentId, cents } = mapped;
      const signalled = { eventId: id, kind, paymentIntentId, ...(cents !== undefined ? { cents } : {}) };
      try {
        if (kind === 'refunded' || kind === 'disputed') {
          // The purchase's workflow ended at mint: its refunds have a short workflow of their own, started by the first of them.
          await temporalCall(deps, () => deps.temporal.workflow.signalWithStart(purchaseRefund, {
            workflowId: purchaseRefundWorkflowId(purchase.id), taskQueue: deps.config.temporal.taskQueue,
            args: [{ purchaseId: purchase.id, cooperativeId: purchase.cooperativeId }], signal: paymentEvent, signalArgs: [signalled],
          }));
        } else {
          await temporalCall(deps, () => deps.temporal.workflow.getHandle(creditPurchaseWorkflowId(purchase.id)).signal(paymentEvent, signalled));
        }
      } catch (err) {
        // The purchase's workflow has closed (a payment event after the deadline): recorded for an operator, nothing to deliver.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        req.log.warn({ eventId: id, purchaseId: purchase.id }, 'stripe event for a closed purchase workflow');
      }
      await markStripeEventSignalled(deps.pool, id);
    }
    res.json({ received: true, duplicate: !needsSignal && purchase !== undefined });
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/stripe',
    summary: 'Stripe webhook (signed with STRIPE_WEBHOOK_SECRET; verified over the raw body)',
    tags: ['Webhooks'],
    responses: {
      200: { description: 'Received and recorded (duplicates, and events not applied, are acknowledged too)' },
      400: { description: 'Invalid signature, or not a Stripe event at all' },
    },
  });
  return router;
}
