import { findPosition, listPositions } from '../../db/staking-positions';
import { replaceStakingTerms, stakingTerms } from '../../db/staking-terms';
import { validateStakingTerms } from '../../domain/staking';
import { ownsOrManages, requireCooperativeAccess, requireMemberAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { PositionListQuery, PositionPage, PositionParams, PositionView, positionView, StakeBody, StakingTermsBody, StakingTermsView, stakingTermsView, UnstakeBody } from '../contracts/staking';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { stakeCredits, unstakeCredits } from '../services/staking';

const EVERYONE = ['member', 'coop_admin', 'operator', 'service'] as const;

/** Staking: the cooperative's lock terms, members' positions, and unstaking after the lock. */
export function stakingRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/staking-terms',
      summary: "The cooperative's lock terms (days, multiplier, auto-release, early-exit penalty), or the defaults while it has set none",
      tag: 'Staking',
      roles: EVERYONE,
      params: CooperativeScope,
      responses: { 200: { description: 'The terms', schema: StakingTermsView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: stakingTermsView(await stakingTerms(deps.pool, params.cooperativeId)) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/cooperatives/:cooperativeId/staking-terms',
      summary: "Replace the cooperative's lock terms; positions keep the term they were staked under",
      tag: 'Staking',
      roles: ['coop_admin', 'operator'],
      params: CooperativeScope,
      body: StakingTermsBody,
      responses: { 200: { description: 'The terms now', schema: StakingTermsView } },
      async handler({ params, body, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        try {
          validateStakingTerms(body.terms);
        } catch (err) {
          throw new ApiError('VALIDATION_ERROR', (err as Error).message, [{ path: 'body.terms', message: (err as Error).message }]);
        }
        return { status: 200, body: stakingTermsView(await replaceStakingTerms(deps.pool, params.cooperativeId, body.terms, auth.subject)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/stakes',
      summary: "Stake your credits under one of the cooperative's terms: moved to your staking account now, locked until the unlock instant by stake:<positionId>",
      tag: 'Staking',
      roles: ['member'],
      params: CooperativeScope,
      body: StakeBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first position', schema: PositionView }, 201: { description: 'Staked', schema: PositionView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireMemberAccess(auth, params.cooperativeId, auth.subject);
        const { position, replayed } = await stakeCredits(deps, { cooperativeId: params.cooperativeId, memberId: auth.subject, amount: body.amount, termDays: body.termDays, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(replayed));
        return { status: replayed ? 200 : 201, body: positionView(position) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/stakes',
      summary: 'Staking positions, newest first, by member and status, paginated by cursor (a member sees their own)',
      tag: 'Staking',
      roles: EVERYONE,
      params: CooperativeScope,
      query: PositionListQuery,
      responses: { 200: { description: 'A page of positions', schema: PositionPage } },
      async handler({ params, query, auth }) {
        const memberId = query.memberId ?? (auth.role === 'member' ? auth.subject : undefined);
        if (memberId) requireMemberAccess(auth, params.cooperativeId, memberId);
        else requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listPositions(deps.pool, params.cooperativeId, { memberId, status: query.status }, { limit: query.limit, cursor: query.cursor });
        return { status: 200, body: { items: page.items.map(positionView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/stakes/:positionId',
      summary: 'A staking position: amount, term, multiplier, staked at, unlocks at, status and revenue earned',
      tag: 'Staking',
      roles: EVERYONE,
      params: PositionParams,
      responses: { 200: { description: 'The position', schema: PositionView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const position = await findPosition(deps.pool, params.cooperativeId, params.positionId);
        if (!position || !ownsOrManages(auth, position.memberId)) throw new ApiError('NOT_FOUND', 'Staking position not found');
        return { status: 200, body: positionView(position) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/stakes/:positionId/unstake',
      summary: 'Unstake your position at or after its unlock instant (409 before it, unless its term allows an early exit and you ask for one); its credits come back once, as the lots they left',
      tag: 'Staking',
      roles: ['member'],
      params: PositionParams,
      body: UnstakeBody,
      responses: { 200: { description: 'The position, released (or released already)', schema: PositionView } },
      async handler({ params, body, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const position = await unstakeCredits(deps, { cooperativeId: params.cooperativeId, positionId: params.positionId, memberId: auth.subject, earlyExit: body.earlyExit });
        return { status: 200, body: positionView(position) };
      },
    }),
  ];
}
