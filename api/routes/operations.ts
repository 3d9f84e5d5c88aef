import { integrityReport } from '../../db/ledger';
import { requireCooperativeAccess } from '../auth/authenticate';
import { Uuid } from '../contracts/common';
import { z } from '../contracts/zod';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';

const IntegrityReportView = z
  .object({
    checkedAt: z.iso.datetime(),
    clean: z.boolean(),
    checks: z.array(z.string()),
    findings: z.array(z.object({ check: z.string(), cooperativeId: Uuid, subject: z.string(), detail: z.string() })),
  })
  .openapi('IntegrityReport');

/** Operator endpoints: what an operator needs to see the ledger is sound. */
export function operationRoutes(deps: ApiDependencies) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/operations/ledger-integrity',
      summary: 'Run every ledger integrity check (for one cooperative or all) and list what breaks',
      tag: 'Operations',
      roles: ['operator'],
      query: z.strictObject({ cooperativeId: Uuid.optional() }),
      responses: { 200: { description: 'The report', schema: IntegrityReportView } },
      async handler({ query, auth }) {
        // An operator token bound to a cooperative sees that cooperative only.
        if (query.cooperativeId !== undefined) requireCooperativeAccess(auth, query.cooperativeId);
        return { status: 200, body: await integrityReport(deps.pool, auth.cooperativeId ?? query.cooperativeId) };
      },
    }),
  ];
}
