import { findPurchase, listPurchases } from '../../db/credit-purchases';
import { creditPurchaseWorkflowId } from '../../workflows/credit-purchase';
import { callerCooperative, listedMember, ownsOrManages } from '../auth/authenticate';
import { ErrorBody } from '../contracts/common';
import { CooperativeScope } from '../contracts/ledger';
import { CreateCreditPurchaseBody, CreditPurchaseListQuery, CreditPurchasePage, CreditPurchaseView, creditPurchaseView, PurchaseParams } from '../contracts/credit-purchases';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { buyCredits } from '../services/credit-purchases';

export function creditPurchaseRoutes(deps: ApiDependencies) {
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
        502: { description: 'PAYMENT_PROVIDER_ERROR: Stripe refused to create the payment for good; the purchase is failed and charges nothing', schema: ErrorBody },
      },
      async handler({ body, auth, idempotencyKey }) {
        const { purchase, created } = await buyCredits(deps, { cooperativeId: callerCooperative(auth), memberId: auth.subject, amount: body.amount, pack: body.pack, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: creditPurchaseView(purchase, creditPurchaseWorkflowId(purchase.id)) };
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
        const cooperativeId = callerCooperative(auth);
        const purchase = await findPurchase(deps.pool, cooperativeId, params.purchaseId);
        if (!purchase || !ownsOrManages(auth, purchase.memberId)) throw new ApiError('NOT_FOUND', 'Purchase not found');
        return { status: 200, body: creditPurchaseView(purchase, creditPurchaseWorkflowId(purchase.id)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/credit-purchases',
      summary: "A cooperative's credit purchases (a member: their own), newest first, paginated by cursor; by member, status and creation time",
      tag: 'Credit purchases',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      query: CreditPurchaseListQuery,
      responses: { 200: { description: 'A page of purchases', schema: CreditPurchasePage } },
      async handler({ params, query, auth }) {
        const memberId = listedMember(auth, params.cooperativeId, query.memberId);
        const page = await listPurchases(deps.pool, params.cooperativeId, { ...query, memberId });
        return { status: 200, body: { items: page.items.map((p) => creditPurchaseView(p, creditPurchaseWorkflowId(p.id))), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
