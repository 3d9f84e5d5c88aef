import { createMember } from '../../db/members';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { CreateMemberBody, MemberView, memberView } from '../contracts/members';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';

export function memberRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/members',
      summary: 'Add a member (idempotent by address) and open their wallet, staking and receivable accounts',
      tag: 'Members',
      roles: ['coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      body: CreateMemberBody,
      idempotencyKey: 'optional',
      responses: { 200: { description: 'The member already existed', schema: MemberView }, 201: { description: 'Created', schema: MemberView } },
      async handler({ params, body, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const { member, created } = await createMember(deps.pool, params.cooperativeId, body);
        return { status: created ? 201 : 200, body: memberView(member) };
      },
    }),
  ];
}
