import { clientKey, visibleKey } from '../../db/idempotency';
import { memberBalance, memberTransactions, redeemUsage, redeemUsageBatch, transfer, type UsageOutcome } from '../../db/ledger';
import { formatMicros } from '../../domain/money';
import { requireMemberAccess } from '../auth/authenticate';
import { BalanceView, balanceView, CooperativeScope, MemberScope, TransactionListQuery, TransactionPage, TransactionView, transactionView, TransferBody, UsageBatchBody, UsageBatchView, UsageBody, type UsageOutcomeView } from '../contracts/ledger';
import type { z } from '../contracts/zod';
import type { ApiDependencies } from '../dependencies';
import { ApiError, statusOf } from '../errors';
import { defineRoute } from '../route';

const written = (replayed: boolean) => (replayed ? 200 : 201);

/** A batch record's outcome as the response lists it: what the client needs to reconcile, not the whole transaction. */
function outcomeView(index: number, idempotencyKey: string, o: UsageOutcome): z.infer<typeof UsageOutcomeView> {
  if ('error' in o) return { index, idempotencyKey, status: statusOf(o.error.code), error: o.error };
  const t = o.transaction;
  const taken = t.entries.find((e) => e.accountCode === '2100')!.amount;
  return {
    index, idempotencyKey, status: written(o.replayed), replayed: o.replayed, transactionId: t.id, amount: formatMicros(taken),
    rateCardVersion: t.metadata.rateCardVersion as number, createdAt: t.createdAt,
  };
}

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
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/usage/batch',
      summary: 'Redeem up to 1,000 usage records at once, each idempotent by its own key and refused on its own',
      tag: 'Wallets',
      roles: ['coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      body: UsageBatchBody,
      // 1,000 records of up to ~450 bytes each (a 255-character key).
      bodyLimit: '1mb',
      responses: { 200: { description: "Each record's outcome, in request order: 201 redeemed, 200 replayed, or its error", schema: UsageBatchView } },
      async handler({ params, body, auth }) {
        for (const memberId of new Set(body.records.map((r) => r.memberId))) requireMemberAccess(auth, params.cooperativeId, memberId);
        const outcomes = await redeemUsageBatch(
          deps.pool,
          params.cooperativeId,
          body.records.map((r) => ({
            memberId: r.memberId, primitive: r.primitive, quantity: r.quantity, usageAt: r.usageAt ? new Date(r.usageAt) : undefined,
            // Scoped to the caller, as the single route's header key is: the same key replays across both.
            idempotencyKey: clientKey(auth, r.idempotencyKey),
          })),
        );
        const results = outcomes.map((o, i) => outcomeView(i, visibleKey(clientKey(auth, body.records[i]!.idempotencyKey)), o));
        const count = (f: (r: (typeof results)[number]) => boolean) => results.filter(f).length;
        return { status: 200, body: { results, redeemed: count((r) => r.status === 201), replayed: count((r) => r.status === 200), failed: count((r) => r.error !== undefined) } };
      },
    }),
  ];
}
