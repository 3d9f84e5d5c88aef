import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { stake } from '../../db/ledger';
import { findPosition } from '../../db/staking-positions';
import { stakeWorkflowId, type StakingPosition } from '../../domain/staking';
import { stake as stakeWorkflow, unstakePosition } from '../../workflows/stake';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { runUpdate, startOnce } from '../await-workflow';

/** Starts the position's workflow, or finds it running or finished: one per position, ever. */
function ensureWorkflow(deps: ApiDependencies, p: StakingPosition): Promise<void> {
  return startOnce(deps, () =>
    deps.temporal.workflow.start(stakeWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: stakeWorkflowId(p.id),
      args: [{ positionId: p.id, cooperativeId: p.cooperativeId, memberId: p.memberId, amount: p.amount, unlocksAt: p.unlocksAt, autoRelease: p.autoRelease, earlyExitPenaltyBasisPoints: p.earlyExitPenaltyBasisPoints }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
}

async function positionOrNotFound(deps: ApiDependencies, cooperativeId: string, positionId: string): Promise<StakingPosition> {
  const position = await findPosition(deps.pool, cooperativeId, positionId);
  if (!position) throw new ApiError('NOT_FOUND', 'Staking position not found');
  return position;
}

/**
 * Stakes a member's credits (one ledger transaction opening the position, idempotent by key), then
 * starts the position's workflow, which holds it until its unlock instant. A replay starts the
 * workflow again in case the first request stopped in between; a running or finished one stays.
 */
export async function stakeCredits(deps: ApiDependencies, req: { cooperativeId: string; memberId: string; amount: bigint; termDays: number; idempotencyKey: string }): Promise<{ position: StakingPosition; replayed: boolean }> {
  // Date.now(), not new Date(): the lock starts on this process's clock, which tests put on the workflow test server's.
  const stakedAt = new Date(Date.now());
  const { positionId, replayed } = await stake(deps.pool, { ...req, positionId: randomUUID(), stakedAt });
  const position = await positionOrNotFound(deps, req.cooperativeId, positionId);
  await ensureWorkflow(deps, position);
  return { position, replayed };
}

/**
 * A member's unstake of their own position, as an Update of the position's workflow: refused before
 * the unlock instant (CONFLICT), unless the term allows an early exit and the member asks for one. A
 * position already released answers as it stands: its credits came back once, whoever asked first.
 */
export async function unstakeCredits(deps: ApiDependencies, req: { cooperativeId: string; positionId: string; memberId: string; earlyExit?: boolean }): Promise<StakingPosition> {
  const position = await positionOrNotFound(deps, req.cooperativeId, req.positionId);
  if (position.memberId !== req.memberId) throw new ApiError('FORBIDDEN', 'Members can only unstake their own positions');
  if (position.status === 'released') return position;
  await ensureWorkflow(deps, position);
  try {
    await runUpdate(deps, () => deps.temporal.workflow.getHandle(stakeWorkflowId(position.id)).startUpdate(unstakePosition, { args: [{ actor: req.memberId, earlyExit: req.earlyExit }], waitForStage: 'ACCEPTED' }));
  } catch (err) {
    const mapped = apiErrorFromWorkflowFailure(err);
    if (mapped) throw mapped;
    // Closed meanwhile: the position was released, as the read below shows.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return positionOrNotFound(deps, req.cooperativeId, req.positionId);
}
