import { createRateCard, currentRateCard, listRateCards } from '../../db/rate-cards';
import { PRIMITIVES } from '../../domain/rate-card';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { CreateRateCardBody, RateCardListQuery, RateCardPage, RateCardView, rateCardView } from '../contracts/rate-cards';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

export function rateCardRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/rate-cards',
      summary: "The cooperative's rate card history, newest version first, paginated by cursor; by when each takes effect",
      tag: 'Rate cards',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      query: RateCardListQuery,
      responses: { 200: { description: 'A page of rate cards', schema: RateCardPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listRateCards(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(rateCardView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/rate-cards/current',
      summary: 'The rate card in force now',
      tag: 'Rate cards',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      responses: { 200: { description: 'The current rate card', schema: RateCardView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const card = await currentRateCard(deps.pool, params.cooperativeId);
        if (!card) throw new ApiError('NOT_FOUND', 'No rate card is in force');
        return { status: 200, body: rateCardView(card) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/rate-cards',
      summary: 'Publish the next rate card version, effective from a time (past usage keeps its price)',
      tag: 'Rate cards',
      roles: ['coop_admin', 'operator'],
      params: CooperativeScope,
      body: CreateRateCardBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: RateCardView }, 201: { description: 'Created', schema: RateCardView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const rates = Object.fromEntries(PRIMITIVES.map((p) => [p, { rate: body.rates[p].rate, infrastructureCost: body.rates[p].infrastructureCost }])) as Parameters<typeof createRateCard>[1]['rates'];
        if (body.retroactiveReason !== undefined && auth.role !== 'operator') throw new ApiError('FORBIDDEN', 'Only an operator may publish a rate card that reprices the past');
        const { rateCard, replayed } = await createRateCard(deps.pool, {
          cooperativeId: params.cooperativeId, effectiveFrom: new Date(body.effectiveFrom), rates, retroactiveReason: body.retroactiveReason, idempotencyKey: idempotencyKey!,
        });
        res.setHeader('Idempotent-Replayed', String(replayed));
        return { status: replayed ? 200 : 201, body: rateCardView(rateCard) };
      },
    }),
  ];
}
