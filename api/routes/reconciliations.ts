import { findReconciliation, listReconciliations } from '../../db/reconciliations';
import { ReconciliationDetailView, ReconciliationListQuery, ReconciliationPage, ReconciliationParams } from '../contracts/reconciliations';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { requireCooperativeAccess } from '../auth/authenticate';
import { defineRoute } from '../route';

/** The stored results of the scheduled reconciliations, for operators. */
export function reconciliationRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/operations/reconciliations',
      summary: "Reconciliation runs, newest first, paginated by cursor (an operator bound to a cooperative sees that cooperative's runs)",
      tag: 'Operations',
      roles: ['operator'],
      query: ReconciliationListQuery,
      responses: { 200: { description: 'A page of runs', schema: ReconciliationPage } },
      async handler({ query, auth }) {
        // An operator bound to a cooperative lists that cooperative's own runs only.
        if (query.cooperativeId) requireCooperativeAccess(auth, query.cooperativeId);
        return { status: 200, body: await listReconciliations(deps.pool, { ...query, ...(auth.cooperativeId ? { cooperativeId: auth.cooperativeId } : {}) }) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/operations/reconciliations/:id',
      summary: "A reconciliation run with its findings (an operator bound to a cooperative sees that cooperative's findings)",
      tag: 'Operations',
      roles: ['operator'],
      params: ReconciliationParams,
      responses: { 200: { description: 'The run', schema: ReconciliationDetailView } },
      async handler({ params, auth }) {
        const run = await findReconciliation(deps.pool, params.id, auth.cooperativeId);
        if (!run) throw new ApiError('NOT_FOUND', 'Reconciliation run not found');
        return { status: 200, body: run };
      },
    }),
  ];
}
