import { randomUUID } from 'node:crypto';
import { createPurchase, findPurchase } from '../../db/credit-purchases';
import type { CreditPurchase } from '../../domain/credit-purchase';
import { CREDIT_PACKS, MAX_PURCHASE, MIN_PURCHASE } from '../../domain/credit-packs';
import { cloudToCents, formatMicros, MoneyFormatError } from '../../domain/money';
import { creditPurchase, creditPurchaseWorkflowId, paymentReady } from '../../workflows/credit-purchase';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { startOnce } from '../temporal-failures';

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
 * Records the purchase (idempotent by key), starts or joins its workflow, and waits a bounded time
 * for the payment the member pays with. A replay of a purchase whose payment already exists returns
 * it as stored; one still in flight joins the running workflow; a new one starts it.
 */
export async function buyCredits(deps: ApiDependencies, req: PurchaseRequest): Promise<{ purchase: CreditPurchase; created: boolean }> {
  const { amount, amountCents } = priced(req);
  const { purchase, created } = await createPurchase(deps.pool, { id: randomUUID(), cooperativeId: req.cooperativeId, memberId: req.memberId, amount, amountCents, pack: req.pack, idempotencyKey: req.idempotencyKey });
  if (purchase.status !== 'creating_payment') return { purchase, created };

  const workflowId = creditPurchaseWorkflowId(purchase.id);
  await startOnce(() =>
    deps.temporal.workflow.start(creditPurchase, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId,
      args: [{
        purchaseId: purchase.id, cooperativeId: req.cooperativeId, memberId: purchase.memberId, amount: purchase.amount, amountCents: purchase.amountCents,
        deadLetterRetryDelaysMs: deps.config.deadLetter.retryDelaysMs,
      }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  try {
    await deps.temporal.withDeadline(Date.now() + (deps.workflowWaitMs ?? 10_000), () => deps.temporal.workflow.getHandle(workflowId).executeUpdate(paymentReady));
  } catch (err) {
    // Not payable within the wait (no worker, Stripe slow) or the workflow has ended: the stored purchase says where it stands.
    deps.logger.warn({ err, purchaseId: purchase.id }, 'purchase not payable within the wait');
  }
  return { purchase: (await findPurchase(deps.pool, req.cooperativeId, purchase.id))!, created };
}
