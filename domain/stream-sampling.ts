/**
 * A sampling run: one cooperative's streams sampled up to one instant (`stream-sampling:<cooperative>:<instant>`),
 * started by the stream-sampling schedule for each cooperative with active streams, or by an operator.
 */
export const STREAM_SAMPLING_WORKFLOW_TYPE = 'streamSampling';

/** Why a run samples: the schedule's run for its instant, or the weekly backfill of streams left behind. */
export type StreamSamplingRun = 'sampling' | 'backfill';

export const streamSamplingWorkflowId = (cooperativeId: string, instant: string, run: StreamSamplingRun = 'sampling') => `stream-${run}:${cooperativeId}:${instant}`;

export interface StreamSamplingInput {
  cooperativeId: string;
  /** Every stream is sampled at each of its instants due up to this one (ISO 8601, whole seconds). */
  instant: string;
  /** Delays before the dead-letter queue's automatic retries of a sample that failed. */
  deadLetterRetryDelaysMs?: readonly number[];
}

/**
 * How a run ended, as its BusinessStatus says: every due stream sampled up to the instant (`completed`),
 * or some left behind (`incomplete`: no usable price, so an alert went out, or handed to the dead-letter
 * queue). `running` while it runs.
 */
export const STREAM_SAMPLING_STATUSES = ['running', 'completed', 'incomplete'] as const;
export type StreamSamplingStatus = (typeof STREAM_SAMPLING_STATUSES)[number];

export interface StreamSamplingResult {
  status: StreamSamplingStatus;
  instant: string;
  /** Streams that had an instant due. */
  streams: number;
  samplesPosted: number;
  /** Streams left with an interval no source could price. */
  unpriced: string[];
  /** Streams whose sampling failed beyond its retries, each now a dead-letter item. */
  deadLettered: string[];
}
