import { listDeadLetterItems } from '../../db/dead-letter';
import { deadLetterWorkflowId, type DeadLetterAction } from '../../domain/dead-letter';
import { requireCooperativeAccess } from '../auth/authenticate';
import { DeadLetterItemView, deadLetterItemView, DeadLetterListQuery, DeadLetterPage, DeadLetterParams, deadLetterSummaryView, DiscardBody, ResolveBody, RetryBody } from '../contracts/dead-letter';
import type { z } from '../contracts/zod';
import type { ApiDependencies } from '../dependencies';
import { defineRoute } from '../route';
import { actOnDeadLetter, visibleDeadLetterItem } from '../services/dead-letter';

/**
 * The dead-letter queue for operators: list and inspect items, and retry, resolve or discard one.
 * Network-wide operators see every item; an operator bound to a cooperative sees its items only
 * (row-level security, db/dead-letter.ts), and never those of the network itself.
 */
export function deadLetterRoutes(deps: ApiDependencies) {
  // Resolve and retry take a note, discard a reason: both are recorded as the action's note.
  const action = (name: DeadLetterAction, body: z.ZodType<{ note?: string } | { reason: string }>, summary: string) =>
    defineRoute({
      method: 'post',
      path: `/v1/operations/dlq/:itemId/${name}`,
      summary,
      tag: 'Operations',
      roles: ['operator'],
      params: DeadLetterParams,
      body,
      responses: { 200: { description: 'The item after the action', schema: DeadLetterItemView } },
      async handler({ params, body: given, auth }) {
        const note = 'reason' in given ? given.reason : given.note;
        const item = await actOnDeadLetter(deps, { scope: auth.cooperativeId, actor: auth.subject }, params.itemId, name, note);
        return { status: 200, body: deadLetterItemView(item, deadLetterWorkflowId(item.id)) };
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/v1/operations/dlq',
      summary: 'Dead-letter items, newest first, by status, operation type and cooperative, paginated by cursor',
      tag: 'Operations',
      roles: ['operator'],
      query: DeadLetterListQuery,
      responses: { 200: { description: 'A page of items', schema: DeadLetterPage } },
      async handler({ query, auth }) {
        if (query.cooperativeId !== undefined) requireCooperativeAccess(auth, query.cooperativeId);
        const { status, operationType, cooperativeId, limit, cursor } = query;
        const page = await listDeadLetterItems(deps.pool, auth.cooperativeId, { status, operationType, cooperativeId }, { limit, cursor });
        return { status: 200, body: { items: page.items.map((i) => deadLetterSummaryView(i, deadLetterWorkflowId(i.id))), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/operations/dlq/:itemId',
      summary: 'A dead-letter item with its payload, last error and history of retries and actions',
      tag: 'Operations',
      roles: ['operator'],
      params: DeadLetterParams,
      responses: { 200: { description: 'The item', schema: DeadLetterItemView } },
      async handler({ params, auth }) {
        const item = await visibleDeadLetterItem(deps, auth.cooperativeId, params.itemId);
        return { status: 200, body: deadLetterItemView(item, deadLetterWorkflowId(item.id)) };
      },
    }),
    action('retry', RetryBody, 'Run the handler of an item in manual review once, now; it succeeds or stays in review with the new error'),
    action('resolve', ResolveBody, 'Mark an item as dealt with outside the queue, with a note; cancels any pending retries'),
    action('discard', DiscardBody, 'Drop an item, with a reason; cancels any pending retries'),
  ];
}
