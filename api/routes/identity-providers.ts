import { deleteIdentityProvider, findIdentityProvider, putIdentityProvider } from '../../db/identity-providers';
import { discoverJwksUri } from '../../clients/oidc';
import { requireCooperativeAccess } from '../auth/authenticate';
import { IdentityProviderBody, IdentityProviderView, identityProviderView } from '../contracts/identity-providers';
import { CooperativeScope } from '../contracts/ledger';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

const TAG = 'Identity';
const PATH = '/v1/cooperatives/:cooperativeId/identity-provider';
const ROLES = ['coop_admin', 'operator'] as const;

export function identityProviderRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'put',
      path: PATH,
      summary: "Register the cooperative's OIDC issuer (or replace its settings): its tokens for the audience are accepted, their claims mapped to roles and members",
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      body: IdentityProviderBody,
      responses: { 200: { description: 'The registration in force', schema: IdentityProviderView } },
      async handler({ params, body, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        if (new URL(body.issuer).protocol !== 'https:' && !deps.config.oidc.allowHttpIssuers) {
          throw new ApiError('VALIDATION_ERROR', 'Invalid body', [{ path: 'body.issuer', message: 'must use https' }]);
        }
        // The discovery document says where the keys are; it is read now, so a registration that cannot work is refused now.
        const jwksUri = await discoverJwksUri(body.issuer, { allowHttp: deps.config.oidc.allowHttpIssuers, allowPrivate: deps.config.oidc.allowPrivateIssuers });
        return { status: 200, body: identityProviderView(await putIdentityProvider(deps.pool, { ...body, cooperativeId: params.cooperativeId, jwksUri })) };
      },
    }),
    defineRoute({
      method: 'get',
      path: PATH,
      summary: "The cooperative's OIDC issuer registration",
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      responses: { 200: { description: 'The registration', schema: IdentityProviderView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const provider = await findIdentityProvider(deps.pool, params.cooperativeId);
        if (!provider) throw new ApiError('NOT_FOUND', 'The cooperative has no identity provider');
        return { status: 200, body: identityProviderView(provider) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: PATH,
      summary: "Remove the cooperative's OIDC issuer: its tokens are refused from then on (within 10 s in every API process)",
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      responses: { 204: { description: 'Removed' } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        await deleteIdentityProvider(deps.pool, params.cooperativeId);
        return { status: 204, body: undefined };
      },
    }),
  ];
}
