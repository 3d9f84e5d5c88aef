import { defineQuery, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { StreamActivities } from '../activities/streams';
import type { StreamSamplingInput, StreamSamplingResult, StreamSamplingStatus } from '../domain/stream-sampling';
import { unlessFailed } from './activity-outcome';
import { handOverToDeadLetter } from './dead-letter-handover';
import { BusinessStatus, CooperativeId } from './search-attributes';

export const streamSamplingState = defineQuery<StreamSamplingResult>('state');

// The chain may be a few seconds behind the instant (its next block is not mined yet): wait for it, up
// to about half an hour, before the run fails visibly.
const { chainReached } = proxyActivities<StreamActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 20 },
});
const { streamBatches, streamsDue } = proxyActivities<StreamActivities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 } });
// A batch that keeps failing is sampled stream by stream, so that only a stream that cannot be sampled
// is held up.
const { sampleStreamBatch } = proxyActivities<StreamActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3 },
});
// A stream whose sampling keeps failing (a node that errs, a database fault) goes to the dead-letter
// queue after a few minutes of retries; the others go on.
const { sampleStream } = proxyActivities<StreamActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
});

/** Streams per batch activity: its reads, prices and writes are shared by them all. */
const STREAMS_PER_BATCH = 500;
/** Batches sampled side by side. */
const CONCURRENT_BATCHES = 4;
/** Streams of a failed batch sampled side by side, one by one. */
const CONCURRENT_STREAMS = 8;

/** Runs `work` over `items`, at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

/**
 * Samples every due stream of one cooperative up to one instant, each at every instant it is due, in
 * order (a run of the cooperative's sampling; the period close samples its boundary the same way).
 * Streams go in batches by id; a batch that fails beyond its retries is sampled stream by stream. An
 * interval no source can price stays open and has raised an alert; a stream that fails beyond its
 * retries is handed to the dead-letter queue. The result says which, and the run's status is
 * `completed` only if every due stream reached the instant.
 */
export async function sampleCooperativeStreams(input: StreamSamplingInput, onProgress: (result: StreamSamplingResult) => void = () => undefined): Promise<StreamSamplingResult> {
  const result: StreamSamplingResult = { status: 'running', instant: input.instant, streams: 0, samplesPosted: 0, unpriced: [], deadLettered: [] };
  await chainReached({ instant: input.instant });
  const batches = await streamBatches({ cooperativeId: input.cooperativeId, upTo: input.instant, size: STREAMS_PER_BATCH });
  result.streams = batches.reduce((sum, b) => sum + b.streams, 0);
  onProgress(result);
  const sampleOne = async (streamId: string) => {
    const request = { cooperativeId: input.cooperativeId, streamId, upTo: input.instant };
    const outcome = await unlessFailed(() => sampleStream(request));
    if (outcome.error !== undefined) {
      await handOverToDeadLetter({
        operationType: 'stream_sample', businessKey: `stream_sample:${streamId}:${input.instant}`, cooperativeId: input.cooperativeId,
        payload: { ...request }, lastError: outcome.error, retryDelaysMs: input.deadLetterRetryDelaysMs,
      });
      result.deadLettered.push(streamId);
      return;
    }
    result.samplesPosted += outcome.value.posted;
    if (outcome.value.status === 'unpriced') result.unpriced.push(streamId);
  };
  await inParallel(batches, CONCURRENT_BATCHES, async (batch) => {
    const request = { cooperativeId: input.cooperativeId, upTo: input.instant, batch };
    const outcome = await unlessFailed(() => sampleStreamBatch(request));
    if (outcome.error === undefined) {
      result.samplesPosted += outcome.value.posted;
      result.unpriced.push(...outcome.value.unpriced);
    } else {
      await inParallel(await streamsDue(request), CONCURRENT_STREAMS, sampleOne);
    }
    onProgress(result);
  });
  const status: StreamSamplingStatus = result.unpriced.length + result.deadLettered.length === 0 ? 'completed' : 'incomplete';
  return { ...result, status };
}

/** `stream-sampling:<cooperative>:<instant>`: one cooperative's sampling run, found in the Temporal UI by CooperativeId and BusinessStatus. */
export async function streamSampling(input: StreamSamplingInput): Promise<StreamSamplingResult> {
  let state: StreamSamplingResult = { status: 'running', instant: input.instant, streams: 0, samplesPosted: 0, unpriced: [], deadLettered: [] };
  setHandler(streamSamplingState, () => state);
  upsertSearchAttributes([{ key: CooperativeId, value: input.cooperativeId }, { key: BusinessStatus, value: 'running' }]);
  state = await sampleCooperativeStreams(input, (progress) => void (state = progress));
  upsertSearchAttributes([{ key: BusinessStatus, value: state.status }]);
  return state;
}
