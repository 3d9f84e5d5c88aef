import { RECONCILIATION_KINDS, RECONCILIATION_STATUSES } from '../../domain/reconciliation';
import { pageQuery, Uuid } from './common';
import { z } from './zod';

const RunFields = {
  id: Uuid,
  kind: z.enum(RECONCILIATION_KINDS),
  cooperativeId: Uuid.nullable().openapi({ description: 'the cooperative a run examined alone (streams), or null for the whole network (ledger)' }),
  runKey: z.string(),
  scheduledFor: z.iso.datetime(),
  status: z.enum(RECONCILIATION_STATUSES),
  checks: z.array(z.object({ name: z.string(), passed: z.boolean(), findings: z.number().int() })),
  findingCount: z.number().int().openapi({ description: 'Every finding of the run; at most 1,000 per check are stored' }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
};

export const ReconciliationRunView = z.object(RunFields).openapi('ReconciliationRun');

export const ReconciliationDetailView = z
  .object({
    ...RunFields,
    findings: z.array(z.object({ check: z.string(), cooperativeId: Uuid.nullable(), subject: z.string(), detail: z.string() })),
  })
  .openapi('ReconciliationDetail');

export const ReconciliationPage = z.object({ items: z.array(ReconciliationRunView), nextCursor: z.string().nullable() }).openapi('ReconciliationPage');

export const ReconciliationListQuery = z.strictObject({
  kind: z.enum(RECONCILIATION_KINDS).optional(),
  status: z.enum(RECONCILIATION_STATUSES).optional(),
  cooperativeId: Uuid.optional().openapi({ description: "one cooperative's own runs" }),
  ...pageQuery,
});

export const ReconciliationParams = z.strictObject({ id: Uuid });
