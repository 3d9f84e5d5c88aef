import { networkReport } from '../../db/network-reports';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeReportParams, NetworkReportView } from '../contracts/network';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';

/** Reports of the network (decision 0022): decisions, events, bookings, quorum and rejection rates; also at /metrics. */
export function networkReportRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get', path: '/v1/reports/network', summary: 'Network-wide and per-cooperative figures: decisions taken, events recorded, bookings, quorum and rejection rates', tag: 'Network',
      roles: ['operator', 'service'], responses: { 200: { description: 'The report', schema: NetworkReportView } },
      async handler({ auth }) {
        if (auth.cooperativeId) throw new ApiError('FORBIDDEN', 'The network report is for network-wide operators and services');
        return { status: 200, body: await networkReport(deps.pool) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/cooperatives/:cooperativeId/report', summary: "One cooperative's figures in the network", tag: 'Network',
      roles: ['coop_admin', 'member', 'operator', 'service'], params: CooperativeReportParams, responses: { 200: { description: 'The report', schema: NetworkReportView } },
      async handler({ auth, params }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: await networkReport(deps.pool, params.cooperativeId) };
      },
    }),
  ];
}
