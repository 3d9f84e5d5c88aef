import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { createPurchase, findPurchase } from '../../db/credit-purchases';
import type { CreditPurchase } from '../../domain/credit-purchase';
import { CREDIT_PACKS, MAX_PURCHASE, MIN_PURCHASE } from '../../domain/credit-packs';
import { cloudToCents, formatMicros, MoneyFormatError } from '../../domain/money';
import { creditPurchase, creditPurchaseWorkflowId, paymentReady } from '../../workflows/credit-purchase';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { startOnce, temporalCall } from '../await-workflow';

export interface PurchaseRequest {
  cooperativeId: string;
  memberId: string;
  amount?: bigint;
  pack?: keyof typeof CREDIT_PACKS;
  idempotencyKey: string;
}

/** µCLOUD and card cents of a purchase request, within the purchase limits and in whole cents. */
function priced(req: PurchaseRequest): { amount: bigint; amountCents: bigint } {
  const amount = req.pack ? CREDIT_PACKS[req.pack] : req.amount!;
  if (amount < MIN_PURCHASE || amount > MAX_PURCHASE) {
    throw new ApiError('VALIDATION_ERROR', `A purchase is between ${formatMicros(MIN_PURCHASE)} and ${formatMicros(MAX_PURCHASE)} CLOUD`, [{ path: 'body.amount', message: 'out of range' }]);
  }
  try {
    return { amount, amountCents: cloudToCents(amount) };
  } catch (err) {
    throw new ApiError('VALIDATION_ERROR', err instanceof MoneyFormatError ? err.message : 'invalid amount', [{ path: 'body.amount', message: 'not a whole number of cents' }]);
  }
}

/**
 * Records the purchase (idempotent by key), then starts its workflow and asks it for the payment in one
 * call (Update-With-Start, decision 0028): the answer comes when the workflow has created the
 * PaymentIntent and recorded it, or the wait ends. A replay of a purchase whose payment already exists
 * returns it as stored; one still in flight joins the running workflow (USE_EXISTING) with an Update of
 * its own; a purchase whose workflow has closed is never run again (REJECT_DUPLICATE). A purchase that
 * failed (Stripe refused its payment for good) answers 502 PAYMENT_PROVIDER_ERROR, then and on replay.
 */
export async function buyCredits(deps: ApiDependencies, req: PurchaseRequest): Promise<{ purchase: CreditPurchase; created: boolean }> {
  const { amount, amountCents } = priced(req);
  const { purchase, created } = await createPurchase(deps.pool, { id: randomUUID(), cooperativeId: req.cooperativeId, memberId: req.memberId, amount, amountCents, pack: req.pack, idempotencyKey: req.idempotencyKey });
  if (purchase.status !== 'creating_payment') return refusedIfFailed({ purchase, created });

  const startWorkflowOperation = new WithStartWorkflowOperation(creditPurchase, {
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: creditPurchaseWorkflowId(purchase.id),
    args: [{
      purchaseId: purchase.id, cooperativeId: req.cooperativeId, memberId: purchase.memberId, amount: purchase.amount, amountCents: purchase.amountCents,
      deadLetterRetryDelaysMs: deps.config.deadLetter.retryDelaysMs,
    }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    await startOnce(deps, () => deps.temporal.workflow.executeUpdateWithStart(paymentReady, { startWorkflowOperation }));
  } catch (err) {
    if (!(await workflowExists(deps, startWorkflowOperation))) {
      // Temporal refused the start (overloaded, unavailable) or did not answer within the wait: nothing
      // runs, and the client's retry under its key starts the one workflow. A 503, never a 500.
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new ApiError('SERVICE_UNAVAILABLE', 'The purchase could not be started within the wait; retry with the same Idempotency-Key');
      throw err;
    }
    // Started, but not payable within the wait (no worker, Stripe slow): the stored purchase says where it stands.
    deps.logger.warn({ err, purchaseId: purchase.id }, 'purchase not payable within the wait');
  }
  return refusedIfFailed({ purchase: (await findPurchase(deps.pool, req.cooperativeId, purchase.id))!, created });
}

/** A purchase Stripe refused to create a payment for has nothing to pay with: the POST (and its replays) answers that, naming the purchase. */
function refusedIfFailed(result: { purchase: CreditPurchase; created: boolean }): { purchase: CreditPurchase; created: boolean } {
  if (result.purchase.status !== 'failed') return result;
  throw new ApiError('PAYMENT_PROVIDER_ERROR', `The payment provider refused to create the payment of purchase ${result.purchase.id}; nothing will be charged. Its history says why.`);
}

const DESCRIBE_WAIT_MS = 2_000;

/**
 * Whether the workflow of an Update-With-Start runs, once its call has failed: known when the server
 * answered the start; asked when the call ended before any answer (a wait with no worker to accept the
 * Update ends that way, the workflow started all the same).
 */
async function workflowExists(deps: ApiDependencies, op: WithStartWorkflowOperation<typeof creditPurchase>): Promise<boolean> {
  if (await op.workflowHandle().then(() => true, () => false)) return true;
  // Bounded: with Temporal away, the answer is the 503 the failed start already means.
  return temporalCall(deps, () => deps.temporal.workflow.getHandle(op.options.workflowId).describe(), DESCRIBE_WAIT_MS).then(() => true, () => false);
}
