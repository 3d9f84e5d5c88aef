import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, ParentClosePolicy, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { DeadLetterActivities } from '../activities/dead-letter';
import { deadLetterWorkflowId, isSettled, type DeadLetterHandover, type DeadLetterStatus, type SettledDeadLetterStatus } from '../domain/dead-letter';
import { deadLetter, deadLetterSettled } from './dead-letter';

/**
 * How a workflow hands an operation that failed beyond its retries to the dead-letter queue: the item
 * is recorded once per (operation type, business key), and its `dlq:<itemId>` workflow is started as
 * a child that outlives its parent (ABANDON), so a parent that ends does not end the retries.
 */

// Recording the item must not fail for long: the handover is what keeps a failure from being lost.
const { recordDeadLetter } = proxyActivities<DeadLetterActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '1 minute' } });

async function handOver(handover: DeadLetterHandover, notify: boolean): Promise<{ id: string; status: DeadLetterStatus }> {
  const { retryDelaysMs, ...item } = handover;
  const recorded = await recordDeadLetter(item);
  // The same operation handed over again after it settled: the item stays as it ended.
  if (isSettled(recorded.status)) return recorded;
  try {
    await startChild(deadLetter, {
      workflowId: deadLetterWorkflowId(recorded.id),
      args: [{ itemId: recorded.id, operationType: handover.operationType, cooperativeId: handover.cooperativeId, retryDelaysMs, ...(notify ? { notifyWorkflowId: workflowInfo().workflowId } : {}) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // Handed over before: the item's workflow is already retrying it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return recorded;
}

/** Hands the operation over and goes on: what becomes of it is the queue's and its operators' business. Returns the item's id. */
export async function handOverToDeadLetter(handover: DeadLetterHandover): Promise<string> {
  return (await handOver(handover, false)).id;
}

/**
 * For a workflow that must learn how the operations it hands over end before it goes on (a purchase
 * does not go on as if it had minted). Call once, at the start: it registers the signal the items'
 * workflows send when they settle.
 */
export function deadLetterSettlements() {
  const settled = new Map<string, SettledDeadLetterStatus>();
  setHandler(deadLetterSettled, ({ itemId, status }) => void settled.set(itemId, status));
  return {
    /** Hands the operation over; returns the item's id, whose settlement `settlement` awaits. */
    async handOver(handover: DeadLetterHandover): Promise<string> {
      const item = await handOver(handover, true);
      if (isSettled(item.status)) settled.set(item.id, item.status);
      return item.id;
    },
    /** Waits until the item has succeeded, or been resolved or discarded by an operator. */
    async settlement(itemId: string): Promise<SettledDeadLetterStatus> {
      await condition(() => settled.has(itemId));
      return settled.get(itemId)!;
    },
  };
}
