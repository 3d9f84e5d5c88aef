import { WorkflowNotFoundError } from '@temporalio/client';
import { findDeadLetterItem, type DeadLetterScope } from '../../db/dead-letter';
import { deadLetterWorkflowId, type DeadLetterAction } from '../../domain/dead-letter';
import { discardDeadLetter, resolveDeadLetter, retryDeadLetter } from '../../workflows/dead-letter';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { runUpdate } from '../await-workflow';

const UPDATES = { retry: retryDeadLetter, resolve: resolveDeadLetter, discard: discardDeadLetter } as const;

/** An item the reader's scope shows; NOT_FOUND for one it does not (unknown, or another cooperative's). */
export async function visibleDeadLetterItem(deps: ApiDependencies, scope: DeadLetterScope, itemId: string) {
  const item = await findDeadLetterItem(deps.pool, scope, itemId);
  if (!item) throw new ApiError('NOT_FOUND', 'Dead-letter item not found');
  return item;
}

/**
 * An operator's action on an item, as an Update of its workflow, which validates it (status, note),
 * takes it and records it with the operator; then the item as it now stands. An item whose workflow
 * has closed has settled, so any action on it is CONFLICT.
 */
export async function actOnDeadLetter(deps: ApiDependencies, by: { scope: DeadLetterScope; actor: string }, itemId: string, action: DeadLetterAction, note: string | undefined) {
  await visibleDeadLetterItem(deps, by.scope, itemId);
  try {
    await runUpdate(deps, () => deps.temporal.workflow.getHandle(deadLetterWorkflowId(itemId)).startUpdate(UPDATES[action], { args: [{ actor: by.actor, note }], waitForStage: 'ACCEPTED' }));
  } catch (err) {
    const mapped = apiErrorFromWorkflowFailure(err);
    if (mapped) throw mapped;
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new ApiError('CONFLICT', `This item is ${(await visibleDeadLetterItem(deps, by.scope, itemId)).status}`);
  }
  return visibleDeadLetterItem(deps, by.scope, itemId);
}
