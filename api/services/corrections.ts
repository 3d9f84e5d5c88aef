import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findCorrection, proposeCorrection } from '../../db/corrections';
import { applyCorrection } from '../../db/ledger';
import { correctionWorkflowId, type Correction, type CorrectionDecision } from '../../domain/corrections';
import { approveCorrection, correction as correctionWorkflow, rejectCorrection } from '../../workflows/correction';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { runUpdate, startOnce } from '../await-workflow';

async function correctionOrNotFound(deps: ApiDependencies, cooperativeId: string, correctionId: string): Promise<Correction> {
  const found = await findCorrection(deps.pool, cooperativeId, correctionId);
  if (!found) throw new ApiError('NOT_FOUND', 'Correction not found');
  return found;
}

/** Starts the workflow of a correction that waits for a second operator, or finds it: one per correction, ever. */
function ensureWorkflow(deps: ApiDependencies, c: Correction): Promise<void> {
  return startOnce(deps, () =>
    deps.temporal.workflow.start(correctionWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: correctionWorkflowId(c.id),
      args: [{ correctionId: c.id, cooperativeId: c.cooperativeId, proposedBy: c.proposedBy, approvalWindowMs: deps.config.corrections.approvalWindowMs }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
}

/**
 * An operator's correction of a transaction (idempotent by key). One within the threshold is applied
 * at once: a new transaction reversing the original. One above it waits for a second operator in its
 * `correction:<id>` workflow. A replay finishes what the first request may have left undone.
 */
export async function correctTransaction(deps: ApiDependencies, req: { cooperativeId: string; transactionId: string; reason: string; actor: string; idempotencyKey: string }): Promise<{ correction: Correction; created: boolean }> {
  const { correction, created } = await proposeCorrection(deps.pool, {
    id: randomUUID(), cooperativeId: req.cooperativeId, transactionId: req.transactionId, reason: req.reason, proposedBy: req.actor,
    threshold: deps.config.corrections.approvalThreshold, idempotencyKey: req.idempotencyKey,
  });
  if (correction.status !== 'proposed') return { correction, created };
  if (correction.requiresApproval) await ensureWorkflow(deps, correction);
  else await applyCorrection(deps.pool, req.cooperativeId, correction.id, null);
  return { correction: await correctionOrNotFound(deps, req.cooperativeId, correction.id), created };
}

const DECISIONS = { approve: approveCorrection, reject: rejectCorrection } as const;

/**
 * A second operator's decision, as an Update of the correction's workflow, which refuses the proposer's
 * approval and a rejection without a reason. A correction that needed no approval, or whose workflow
 * has closed, has been decided: any decision is CONFLICT.
 */
export async function decideCorrection(deps: ApiDependencies, req: { cooperativeId: string; correctionId: string; decision: CorrectionDecision; actor: string; reason?: string }): Promise<Correction> {
  const current = await correctionOrNotFound(deps, req.cooperativeId, req.correctionId);
  if (!current.requiresApproval) throw new ApiError('CONFLICT', `The correction needed no second operator and is ${current.status}`);
  if (current.status === 'proposed') await ensureWorkflow(deps, current);
  try {
    await runUpdate(deps, () => deps.temporal.workflow.getHandle(correctionWorkflowId(req.correctionId)).startUpdate(DECISIONS[req.decision], { args: [{ actor: req.actor, reason: req.reason }], waitForStage: 'ACCEPTED' }));
  } catch (err) {
    const mapped = apiErrorFromWorkflowFailure(err);
    if (mapped) throw mapped;
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new ApiError('CONFLICT', `The correction is ${(await correctionOrNotFound(deps, req.cooperativeId, req.correctionId)).status}`);
  }
  return correctionOrNotFound(deps, req.cooperativeId, req.correctionId);
}
