import { findHold, listHolds } from '../../db/holds';
import { reserveHold, resolveHold, type HoldOutcome } from '../../db/ledger';
import { listedMember, ownsOrManages, requireCooperativeAccess, requireMemberAccess, type AuthContext } from '../auth/authenticate';
import { FinalizeHoldBody, HoldListQuery, HoldPage, HoldParams, HoldView, holdView, ReserveHoldBody } from '../contracts/holds';
import { CooperativeScope } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

const ROLES = ['coop_admin', 'operator', 'service'] as const;
/** A member may read their own holds. */
const READERS = ['member', ...ROLES] as const;

export function holdRoutes(deps: ApiDependencies) {
  // Authorised before anything runs: the cooperative in the path is the row-level security scope.
  const resolve = async (auth: AuthContext, cooperativeId: string, holdId: string, outcome: HoldOutcome) => {
    requireCooperativeAccess(auth, cooperativeId);
    const { hold } = await resolveHold(deps.pool, cooperativeId, holdId, outcome);
    return { status: 200, body: holdView(hold) };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/holds',
      summary: "A cooperative's holds (a member: their own), newest first, paginated by cursor; by member, status and creation time",
      tag: 'Holds',
      roles: READERS,
      params: CooperativeScope,
      query: HoldListQuery,
      responses: { 200: { description: 'A page of holds', schema: HoldPage } },
      async handler({ params, query, auth }) {
        const memberId = listedMember(auth, params.cooperativeId, query.memberId);
        const page = await listHolds(deps.pool, params.cooperativeId, { ...query, memberId });
        return { status: 200, body: { items: page.items.map(holdView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/holds/:holdId',
      summary: 'A hold',
      tag: 'Holds',
      roles: READERS,
      params: HoldParams,
      responses: { 200: { description: 'The hold', schema: HoldView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const hold = await findHold(deps.pool, params.cooperativeId, params.holdId);
        if (!hold || !ownsOrManages(auth, hold.memberId)) throw new ApiError('NOT_FOUND', 'Hold not found');
        return { status: 200, body: holdView(hold) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/holds',
      summary: 'Reserve credits for a later charge (two-phase: finalize or release; expires after its TTL)',
      tag: 'Holds',
      roles: ROLES,
      params: CooperativeScope,
      body: ReserveHoldBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: HoldView }, 201: { description: 'Reserved', schema: HoldView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireMemberAccess(auth, params.cooperativeId, body.memberId);
        const { hold, replayed } = await reserveHold(deps.pool, {
          cooperativeId: params.cooperativeId, memberId: body.memberId, amount: body.amount, ttlSeconds: body.ttlSeconds, idempotencyKey: idempotencyKey!,
        });
        res.setHeader('Idempotent-Replayed', String(replayed));
        return { status: replayed ? 200 : 201, body: holdView(hold) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/holds/:holdId/finalize',
      summary: 'Charge the actual amount (at most the held amount) and release the rest; at most once',
      tag: 'Holds',
      roles: ROLES,
      params: HoldParams,
      body: FinalizeHoldBody,
      responses: { 200: { description: 'Finalized (or already finalized with this amount)', schema: HoldView } },
      handler: ({ params, body, auth }) => resolve(auth, params.cooperativeId, params.holdId, { kind: 'finalize', amount: body.amount }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/holds/:holdId/release',
      summary: 'Release the whole hold; at most once',
      tag: 'Holds',
      roles: ROLES,
      params: HoldParams,
      responses: { 200: { description: 'Released (or already released)', schema: HoldView } },
      handler: ({ params, auth }) => resolve(auth, params.cooperativeId, params.holdId, { kind: 'release' }),
    }),
  ];
}
