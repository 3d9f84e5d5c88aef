import { createMember, findMember, listMembers, setMemberStatus, updateMember } from '../../db/members';
import { requireCooperativeAccess, requireMemberAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { CreateMemberBody, MemberListQuery, MemberPage, MemberParams, MemberView, memberView, UpdateMemberBody } from '../contracts/members';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

const TAG = 'Members';
const BASE = '/v1/cooperatives/:cooperativeId/members';
/** Everyone in a cooperative may read its members (delegation and revenue shares name them); addresses are public on chain anyway. */
const READERS = ['member', 'coop_admin', 'operator', 'service'] as const;

export function memberRoutes(deps: ApiDependencies) {
  const status = (name: 'deactivate' | 'reactivate', summary: string) =>
    defineRoute({
      method: 'post',
      path: `${BASE}/:memberId/${name}`,
      summary,
      tag: TAG,
      roles: ['coop_admin', 'operator'],
      params: MemberParams,
      responses: { 200: { description: 'The member, with the status now in force (repeating it changes nothing)', schema: MemberView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const member = await setMemberStatus(deps.pool, params.cooperativeId, params.memberId, name === 'deactivate' ? 'deactivated' : 'active');
        return { status: 200, body: memberView(member) };
      },
    });
  return [
    defineRoute({
      method: 'post',
      path: BASE,
      summary: 'Add a member (idempotent by address) and open their wallet, staking and receivable accounts',
      tag: TAG,
      roles: ['coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      body: CreateMemberBody,
      responses: { 200: { description: 'The member already existed', schema: MemberView }, 201: { description: 'Created', schema: MemberView } },
      async handler({ params, body, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const { member, created } = await createMember(deps.pool, params.cooperativeId, body);
        return { status: created ? 201 : 200, body: memberView(member) };
      },
    }),
    defineRoute({
      method: 'get',
      path: BASE,
      summary: "A cooperative's members, newest first, paginated by cursor; by status and creation time",
      tag: TAG,
      roles: READERS,
      params: CooperativeScope,
      query: MemberListQuery,
      responses: { 200: { description: 'A page of members', schema: MemberPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listMembers(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(memberView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${BASE}/:memberId`,
      summary: 'A member',
      tag: TAG,
      roles: READERS,
      params: MemberParams,
      responses: { 200: { description: 'The member', schema: MemberView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const member = await findMember(deps.pool, params.cooperativeId, params.memberId);
        if (!member) throw new ApiError('NOT_FOUND', 'Member not found');
        return { status: 200, body: memberView(member) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: `${BASE}/:memberId`,
      summary: "Change a member's display name or ENS name (the member themselves, or an admin)",
      tag: TAG,
      roles: ['member', 'coop_admin', 'operator'],
      params: MemberParams,
      body: UpdateMemberBody,
      responses: { 200: { description: 'The member as changed', schema: MemberView } },
      async handler({ params, body, auth }) {
        requireMemberAccess(auth, params.cooperativeId, params.memberId);
        return { status: 200, body: memberView(await updateMember(deps.pool, params.cooperativeId, params.memberId, body)) };
      },
    }),
    status('deactivate', 'Deactivate a member: their tokens are refused and no new hold draws on their wallet; the balance stays. Refused while a hold is open'),
    status('reactivate', 'Reactivate a deactivated member'),
  ];
}
