import { findPeriod } from '../../db/accounting-periods';
import { requireCooperativeAccess } from '../auth/authenticate';
import { PeriodParams, PeriodView, periodView } from '../contracts/periods';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';
import { closePeriod } from '../services/periods';

const TAG = 'Periods';
const ROLES = ['coop_admin', 'operator'] as const;
const BASE = '/v1/cooperatives/:cooperativeId/periods/:periodId';

/** Accounting periods (UTC calendar months): their status, and their close. */
export function periodRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: BASE,
      summary: 'An accounting period: open, closing or closed, with the stream samples posted into it',
      tag: TAG,
      roles: ROLES,
      params: PeriodParams,
      responses: { 200: { description: 'The period', schema: PeriodView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: periodView(await findPeriod(deps.pool, params.cooperativeId, params.periodId)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${BASE}/close`,
      summary:
        "Close a period that has ended: every stream is sampled at its exact boundary first, and the period closes only once all are; nothing posts into it afterwards. Repeating it joins the close under way and has a blocked one try again",
      tag: TAG,
      roles: ROLES,
      params: PeriodParams,
      responses: {
        200: { description: 'Closed (or it was already)', schema: PeriodView },
        202: { description: 'Under way: still sampling, or blocked (with the reason) until the streams can be sampled', schema: PeriodView },
      },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const outcome = await closePeriod(deps, { cooperativeId: params.cooperativeId, period: params.periodId, requestedBy: auth.subject });
        return outcome.kind === 'closed' ? { status: 200, body: periodView(outcome.period) } : { status: 202, body: periodView(outcome.period, outcome.close) };
      },
    }),
  ];
}
