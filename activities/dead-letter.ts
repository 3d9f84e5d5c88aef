import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { applyDeadLetterStep, deadLetterWork, recordDeadLetter, type DeadLetterStep } from '../db/dead-letter';
import type { DeadLetterHandover, DeadLetterOperationType } from '../domain/dead-letter';
import type { LedgerActivities } from './ledger';
import type { SampleStreamInput } from './streams';

/** Runs a handed-over operation once more from its stored payload; throws when it fails again. */
export type DeadLetterHandler = (payload: Record<string, unknown>) => Promise<unknown>;

export interface DeadLetterHandlerDependencies {
  ledger: Pick<LedgerActivities, 'mintCredits' | 'refundClawback'>;
  /** One delivery attempt of an outbound webhook (activities/webhooks.ts). */
  deliverWebhookOnce: DeadLetterHandler;
  /** Samples a stream up to the run's instant, failing while it cannot (activities/streams.ts). */
  sampleStreamFully: (input: SampleStreamInput) => Promise<unknown>;
}

/**
 * A stored payload as the request it was handed over as. Amounts were stored as decimal strings
 * (db/json.ts); every other field is as the workflow sent it, so the request hashes as before and a
 * write that did happen after all replays under its key instead of running twice.
 */
function asRequest<T extends { amount: bigint }>(payload: Record<string, unknown>): T {
  if (typeof payload.amount !== 'string' || !/^\d{1,19}$/.test(payload.amount)) throw ApplicationFailure.nonRetryable('the stored payload has no valid amount', 'VALIDATION_ERROR');
  return { ...payload, amount: BigInt(payload.amount) } as unknown as T;
}

/** A stored stream sample's payload: the stream and the run's instant, as the sampling workflow handed them over. */
function asSampleRequest(payload: Record<string, unknown>): SampleStreamInput {
  const { cooperativeId, streamId, upTo } = payload;
  if (typeof cooperativeId !== 'string' || typeof streamId !== 'string' || typeof upTo !== 'string' || Number.isNaN(Date.parse(upTo))) {
    throw ApplicationFailure.nonRetryable('the stored payload is not a stream sample (cooperativeId, streamId, upTo)', 'VALIDATION_ERROR');
  }
  return { cooperativeId, streamId, upTo };
}

/** The handler of each operation type: the operation's own activity, run with its stored request. */
export function deadLetterHandlers(deps: DeadLetterHandlerDependencies): Record<DeadLetterOperationType, DeadLetterHandler> {
  return {
    mint_credits: (payload) => deps.ledger.mintCredits(asRequest(payload)),
    refund_clawback: (payload) => deps.ledger.refundClawback(asRequest(payload)),
    webhook_delivery: deps.deliverWebhookOnce,
    stream_sample: (payload) => deps.sampleStreamFully(asSampleRequest(payload)),
  };
}

/** The dead-letter workflow's activities: recording items and their steps, and running their handlers. */
export function createDeadLetterActivities(pool: Pool, handlers: Record<DeadLetterOperationType, DeadLetterHandler>) {
  return {
    /** Idempotent by (operation type, business key): returns the item's id and its status now. */
    recordDeadLetter: (handover: Omit<DeadLetterHandover, 'retryDelaysMs'>) => recordDeadLetter(pool, randomUUID(), handover),

    /** One run of the item's handler. The workflow runs it with a single attempt and records the outcome. */
    async runDeadLetterHandler(input: { itemId: string }): Promise<void> {
      const work = await deadLetterWork(pool, input.itemId);
      if (!work) throw ApplicationFailure.nonRetryable(`dead-letter item ${input.itemId} does not exist`, 'NOT_FOUND');
      await handlers[work.operationType](work.payload);
    },

    /** Idempotent by the step's key. */
    applyDeadLetterStep: (step: DeadLetterStep) => applyDeadLetterStep(pool, step),
  };
}

export type DeadLetterActivities = ReturnType<typeof createDeadLetterActivities>;
