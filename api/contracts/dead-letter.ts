import { DEAD_LETTER_HISTORY_ACTIONS, DEAD_LETTER_OPERATION_TYPES, DEAD_LETTER_STATUSES, type DeadLetterHistoryEntry, type DeadLetterItem } from '../../domain/dead-letter';
import { pageQuery, SafeText, Uuid } from './common';
import { z } from './zod';

export const DeadLetterParams = z.strictObject({ itemId: Uuid });

export const DeadLetterListQuery = z.strictObject({
  status: z.enum(DEAD_LETTER_STATUSES).optional(),
  operationType: z.enum(DEAD_LETTER_OPERATION_TYPES).optional(),
  cooperativeId: Uuid.optional(),
  ...pageQuery,
});

export const RetryBody = z.strictObject({ note: SafeText(1, 2000).optional() }).openapi('DeadLetterRetry');
export const ResolveBody = z.strictObject({ note: SafeText(1, 2000).openapi({ description: 'how the operation was dealt with' }) }).openapi('DeadLetterResolve');
export const DiscardBody = z.strictObject({ reason: SafeText(1, 2000).openapi({ description: 'why the operation is dropped' }) }).openapi('DeadLetterDiscard');

const itemFields = {
  id: Uuid,
  operationType: z.enum(DEAD_LETTER_OPERATION_TYPES),
  businessKey: z.string(),
  cooperativeId: Uuid.nullable(),
  status: z.enum(DEAD_LETTER_STATUSES),
  attempts: z.number().int().openapi({ description: 'handler runs since the handover, automatic and by operators' }),
  lastError: z.string(),
  payload: z.record(z.string(), z.unknown()),
  workflowId: z.string().openapi({ description: 'dlq:<id>, to find the item in the Temporal UI' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

export const DeadLetterSummaryView = z.object(itemFields).openapi('DeadLetterItemSummary');
export const DeadLetterItemView = z
  .object({
    ...itemFields,
    history: z.array(
      z.object({
        action: z.enum(DEAD_LETTER_HISTORY_ACTIONS), actor: z.string().nullable(), note: z.string().nullable(),
        from: z.enum(DEAD_LETTER_STATUSES), to: z.enum(DEAD_LETTER_STATUSES), error: z.string().nullable(), at: z.string(),
      }),
    ),
  })
  .openapi('DeadLetterItem');
export const DeadLetterPage = z.object({ items: z.array(DeadLetterSummaryView), nextCursor: z.string().nullable() }).openapi('DeadLetterPage');

export const deadLetterSummaryView = (i: DeadLetterItem, workflowId: string): z.infer<typeof DeadLetterSummaryView> => ({
  id: i.id, operationType: i.operationType, businessKey: i.businessKey, cooperativeId: i.cooperativeId, status: i.status, attempts: i.attempts,
  lastError: i.lastError, payload: i.payload, workflowId, createdAt: i.createdAt, updatedAt: i.updatedAt,
});

export const deadLetterItemView = (i: DeadLetterItem & { history: DeadLetterHistoryEntry[] }, workflowId: string): z.infer<typeof DeadLetterItemView> => ({
  ...deadLetterSummaryView(i, workflowId),
  history: i.history,
});
