import { randomUUID } from 'node:crypto';
import { createPurchase, findPurchase, type CreditPurchase } from '../../db/credit-purchases';
import { CREDIT_PACKS, MAX_PURCHASE, MIN_PURCHASE } from '../../domain/credit-packs';
import { cloudToCents, formatMicros, MoneyFormatError } from '../../domain/money';
import { creditPurchase, creditPurchaseWorkflowId } from '../../workflows/credit-purchase';
import { requireMemberAccess, type AuthContext } from '../auth/authenticate';
import { CreateCreditPurchaseBody, CreditPurchaseView, creditPurchaseView, PurchaseParams } from '../contracts/credit-purchases';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { startOnce } from '../temporal-failures';

function memberCooperative(auth: AuthContext): string {
  if (!auth.cooperativeId) throw new ApiError('FORBIDDEN', 'Credit purchases are made by members of a cooperative');
  return auth.cooperativeId;
}

export function creditPurchaseRoutes(deps: ApiDependencies) {
  const waitMs = deps.workflowWaitMs ?? 10_000;

  /** Waits (bounded) until the workflow has created the payment, so the client gets what it needs to pay. */
  async function untilPayable(cooperativeId: string, id: string): Promise<CreditPurchase> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const purchase = (await findPurchase(deps.pool, cooperativeId, id))!;
      if (purchase.status !== 'creating_payment' || Date.now() > deadline) return purchase;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return [
    defineRoute({
      method: 'post',
      path: '/v1/credit-purchases',
      summary: 'Buy credits by card: starts the credit-purchase workflow and returns the Stripe client secret to pay with',
      tag: 'Credit purchases',
      roles: ['member'],
      body: CreateCreditPurchaseBody,
      idempotencyKey: 'required',
      responses: {
        200: { description: 'Replayed: the purchase this key started', schema: CreditPurchaseView },
        201: { description: 'Created; pay with clientSecret', schema: CreditPurchaseView },
      },
      async handler({ body, auth, idempotencyKey }) {
        const cooperativeId = memberCooperative(auth);
        const amount = body.pack ? CREDIT_PACKS[body.pack] : body.amount!;
        if (amount < MIN_PURCHASE || amount > MAX_PURCHASE) {
          throw new ApiError('VALIDATION_ERROR', `A purchase is between ${formatMicros(MIN_PURCHASE)} and ${formatMicros(MAX_PURCHASE)} CLOUD`, [{ path: 'body.amount', message: 'out of range' }]);
        }
        let amountCents: bigint;
        try {
          amountCents = cloudToCents(amount);
        } catch (err) {
          throw new ApiError('VALIDATION_ERROR', err instanceof MoneyFormatError ? err.message : 'invalid amount', [{ path: 'body.amount', message: 'not a whole number of cents' }]);
        }
        const { purchase, created } = await createPurchase(deps.pool, {
          id: randomUUID(), cooperativeId, memberId: auth.subject, amount, amountCents, pack: body.pack, idempotencyKey: idempotencyKey!,
        });
        const workflowId = creditPurchaseWorkflowId(purchase.id);
        await startOnce(() =>
          deps.temporal.workflow.start(creditPurchase, {
            taskQueue: deps.config.temporal.taskQueue,
            workflowId,
            args: [{ purchaseId: purchase.id, cooperativeId, memberId: purchase.memberId, amount: purchase.amount, amountCents: purchase.amountCents }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        );
        return { status: created ? 201 : 200, body: creditPurchaseView(await untilPayable(cooperativeId, purchase.id), workflowId) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/credit-purchases/:purchaseId',
      summary: 'A credit purchase: its status and history',
      tag: 'Credit purchases',
      roles: ['member', 'coop_admin', 'service'],
      params: PurchaseParams,
      responses: { 200: { description: 'The purchase', schema: CreditPurchaseView } },
      async handler({ params, auth }) {
        const cooperativeId = memberCooperative(auth);
        const purchase = await findPurchase(deps.pool, cooperativeId, params.purchaseId);
        if (!purchase) throw new ApiError('NOT_FOUND', 'Purchase not found');
        requireMemberAccess(auth, cooperativeId, purchase.memberId);
        return { status: 200, body: creditPurchaseView(purchase, creditPurchaseWorkflowId(purchase.id)) };
      },
    }),
  ];
}
