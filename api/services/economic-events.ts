import { randomUUID } from 'node:crypto';
import { findCooperativeById } from '../../db/cooperatives';
import { appendEconomicEvent, findEconomicEvent } from '../../db/economic-events';
import { verifyGovernanceProof } from '../../db/governance-proof';
import { eventProblem, type EconomicEvent } from '../../domain/network/economic-events';
import { settlement, settlementWorkflowId, type SettlementResult } from '../../workflows/settlement';
import type { EconomicEventBody } from '../contracts/network';
import type { z } from '../contracts/zod';
import { awaitWorkflowResult, startOnce } from '../await-workflow';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';

export interface RecordEventRequest {
  cooperativeId: string;
  recordedBy: string;
  body: z.output<typeof EconomicEventBody>;
  idempotencyKey: string;
}

/**
 * Appends an economic event: its type's rules (amount, sign, proof between cooperatives), every
 * cooperative named existing, the governance proof verified. Fulfilling a mutual-aid request also
 * moves the aid: the donor's CLOUD to the requesting cooperative, in both ledgers or neither, before
 * the event is recorded with the settlement's transactions.
 */
export async function recordEconomicEvent(deps: ApiDependencies, req: RecordEventRequest): Promise<{ event: EconomicEvent; created: boolean }> {
  const { body } = req;
  const cooperatives = [...new Set([req.cooperativeId, ...body.cooperatives])];
  const amount = body.amount ?? null;
  const problem = eventProblem(body.type, amount, cooperatives, body.proof);
  if (problem) throw new ApiError('VALIDATION_ERROR', problem);
  for (const id of cooperatives) if (!(await findCooperativeById(deps.pool, id))) throw new ApiError('NOT_FOUND', `Cooperative ${id} not found`);
  const proof = body.proof ? await verifyGovernanceProof(deps.pool, body.proof, { cooperatives, aggregateId: body.aggregateId }) : null;
  let payload: Record<string, unknown> = body.payload;
  if (body.type === 'mutual_aid_fulfilled') payload = { ...payload, settlement: await moveAid(deps, req.cooperativeId, cooperatives, body.payload, amount!) };
  return appendEconomicEvent(deps.pool, {
    id: randomUUID(), type: body.type, cooperativeId: req.cooperativeId, cooperatives, aggregateId: body.aggregateId, amount, currency: amount === null ? null : 'CLOUD',
    payload, proof, recordedBy: req.recordedBy, idempotencyKey: req.idempotencyKey,
  });
}

/** The aid's settlement, keyed by the request and the fulfilling cooperative, so a retry joins it. */
async function moveAid(deps: ApiDependencies, cooperativeId: string, cooperatives: string[], payload: { requestEventId: string; donorMemberId: string }, amount: bigint): Promise<SettlementResult> {
  const request = await findEconomicEvent(deps.pool, payload.requestEventId);
  if (!request || request.type !== 'mutual_aid_requested') throw new ApiError('VALIDATION_ERROR', `${payload.requestEventId} is not a mutual-aid request`);
  if (request.cooperativeId === cooperativeId || !cooperatives.includes(request.cooperativeId)) {
    throw new ApiError('VALIDATION_ERROR', "Aid goes to another cooperative, the request's, which the event must name among its cooperatives");
  }
  const exchangeId = `aid:${request.id}:${cooperativeId}`;
  const workflowId = settlementWorkflowId(exchangeId);
  // Once per exchange: a retry joins the settlement, running or finished, and gets its result.
  await startOnce(deps, () =>
    deps.temporal.workflow.start(settlement, {
      taskQueue: deps.config.temporal.taskQueue, workflowId,
      args: [{ exchangeId, payerCooperativeId: cooperativeId, payerMemberId: payload.donorMemberId, payeeCooperativeId: request.cooperativeId, amount, memo: `mutual aid for request ${request.id}` }],
      workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  const result = await awaitWorkflowResult(deps, deps.temporal.workflow.getHandle<typeof settlement>(workflowId));
  if (!result) throw new ApiError('SERVICE_UNAVAILABLE', `The aid's settlement (${workflowId}) is still running; send the same request again`);
  return result;
}
