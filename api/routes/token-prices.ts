import { listManualPrices, setManualPrice } from '../../db/token-prices';
import { CLOCK_SKEW_MS } from '../../domain/time-bounds';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { ManualPriceListQuery, ManualPricePage, ManualPriceView, manualPriceView, SetManualPriceBody } from '../contracts/token-prices';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

const TAG = 'Streams';
const BASE = '/v1/cooperatives/:cooperativeId/token-prices';

/** Manual prices: the last source of every stream's price chain, set by operators with a reason. */
export function tokenPriceRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'post',
      path: BASE,
      summary: "Set a token's USD price by hand, with the reason: streams whose other price sources fail or are stale are priced by it",
      tag: TAG,
      roles: ['operator'],
      params: CooperativeScope,
      body: SetManualPriceBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: ManualPriceView }, 201: { description: 'Set', schema: ManualPriceView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        // A price for a time still to come would price samples before anyone could know it.
        if (body.observedAt && Date.parse(body.observedAt) > Date.now() + CLOCK_SKEW_MS) throw new ApiError('VALIDATION_ERROR', 'Invalid body', [{ path: 'body.observedAt', message: 'must not be in the future' }]);
        const made = await setManualPrice(deps.pool, {
          cooperativeId: params.cooperativeId, token: body.token, price: body.price, ...(body.observedAt ? { observedAt: body.observedAt } : {}), reason: body.reason, setBy: auth.subject, idempotencyKey: idempotencyKey!,
        });
        res.setHeader('Idempotent-Replayed', String(made.replayed));
        return { status: made.replayed ? 200 : 201, body: manualPriceView(made.price) };
      },
    }),
    defineRoute({
      method: 'get',
      path: BASE,
      summary: "A cooperative's manual prices, newest first, paginated by cursor",
      tag: TAG,
      roles: ['coop_admin', 'operator'],
      params: CooperativeScope,
      query: ManualPriceListQuery,
      responses: { 200: { description: 'A page of prices', schema: ManualPricePage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listManualPrices(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(manualPriceView), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
