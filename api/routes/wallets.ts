import { memberBalance, memberTransactions, redeemUsage, transfer } from '../../db/ledger';
import { requireMemberAccess } from '../auth/authenticate';
import { BalanceView, balanceView, CooperativeScope, MemberScope, TransactionListQuery, TransactionPage, TransactionView, transactionView, TransferBody, UsageBody } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

const written = (replayed: boolean) => (replayed ? 200 : 201);

export function walletRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/members/:memberId/balance',
      summary: "A member's credits: available, held, expiring, staked, debt, and lots with their expiries",
      tag: 'Wallets',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: MemberScope,
      responses: { 200: { description: 'The balance', schema: BalanceView } },
      async handler({ params, auth }) {
        requireMemberAccess(auth, params.cooperativeId, params.memberId);
        return { status: 200, body: balanceView(await memberBalance(deps.pool, params.cooperativeId, params.memberId)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/members/:memberId/transactions',
      summary: "A member's transactions, newest first, paginated by cursor",
      tag: 'Wallets',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: MemberScope,
      query: TransactionListQuery,
      responses: { 200: { description: 'A page of transactions', schema: TransactionPage } },
      async handler({ params, query, auth }) {
        requireMemberAccess(auth, params.cooperativeId, params.memberId);
        const page = await memberTransactions(deps.pool, params.cooperativeId, params.memberId, { limit: query.limit, cursor: query.cursor });
        return { status: 200, body: { items: page.items.map(transactionView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/transfers',
      summary: 'Transfer credits between two members (lots keep their expiry)',
      tag: 'Wallets',
      roles: ['member', 'coop_admin', 'service'],
      params: CooperativeScope,
      body: TransferBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: TransactionView }, 201: { description: 'Transferred', schema: TransactionView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        const fromMemberId = body.fromMemberId ?? (auth.role === 'member' ? auth.subject : undefined);
        if (!fromMemberId) throw new ApiError('VALIDATION_ERROR', 'fromMemberId is required', [{ path: 'body.fromMemberId', message: 'Required' }]);
        requireMemberAccess(auth, params.cooperativeId, fromMemberId);
        const result = await transfer(deps.pool, { cooperativeId: params.cooperativeId, fromMemberId, toMemberId: body.toMemberId, amount: body.amount, memo: body.memo, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(result.replayed));
        return { status: written(result.replayed), body: transactionView(result.transaction) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/usage',
      summary: 'Redeem metered usage at the rate card in force at the usage time',
      tag: 'Wallets',
      roles: ['coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      body: UsageBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: TransactionView }, 201: { description: 'Redeemed', schema: TransactionView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireMemberAccess(auth, params.cooperativeId, body.memberId);
        const result = await redeemUsage(deps.pool, {
          cooperativeId: params.cooperativeId, memberId: body.memberId, primitive: body.primitive, quantity: body.quantity,
          usageAt: body.usageAt ? new Date(body.usageAt) : undefined, idempotencyKey: idempotencyKey!,
        });
        res.setHeader('Idempotent-Replayed', String(result.replayed));
        return { status: written(result.replayed), body: transactionView(result.transaction) };
      },
    }),
  ];
}
