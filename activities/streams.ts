import { ApplicationFailure, heartbeat, metricMeter } from '@temporalio/activity';
import type { Pool } from 'pg';
import { blockInstant, boundaryBlock, readFlowUpdates, type BlockInstant, type ChainClient, type ChainConnector, type FlowKey, type FlowUpdate } from '../clients/chain';
import { postStreamSamples, type StreamSamplePlan } from '../db/ledger';
import { recordUnpricedInterval } from '../db/stream-samples';
import { findStream, streamsBetween } from '../db/streams';
import { BusinessError } from '../domain/errors';
import { weiToMicroUsd } from '../domain/prices';
import { dueInstants, fromUnixSeconds, unixSeconds } from '../domain/sampling-instants';
import { flowOver } from '../domain/stream-flow';
import type { SamplePricing, SamplingPosition, Stream } from '../domain/streams';
import { asActivity } from './business-failure';
import { streamPricer } from './stream-pricing';

export interface StreamActivityDependencies {
  pool: Pool;
  chain: ChainConnector;
  /** The configured HTTP price sources, by name. */
  httpSources: Record<string, string>;
}

/** How far one round catches a stream up: an hourly stream a month behind takes a few rounds. */
const INSTANTS_PER_ROUND = 200;
/** Samples posted in one database transaction. */
const SAMPLES_PER_WRITE = 1_000;
/** Above this many tokens in a batch, the flow history is read unfiltered and sorted out here. */
const MAX_TOKEN_FILTER = 20;

/** What sampling one stream up to an instant did. */
export type StreamSampleOutcome = { sampledUntil: string; posted: number } & (
  | { status: 'caught_up' }
  /** More instants are due than one round takes: sample again. */
  | { status: 'behind' }
  /** No source could price this interval: it stays open, nothing after it was sampled, an alert went out. */
  | { status: 'unpriced'; intervalStart: string; intervalEnd: string; reasons: string[] }
  | { status: 'inactive' }
);

export interface SampleStreamInput {
  cooperativeId: string;
  streamId: string;
  /** The run's instant: the stream is sampled at each of its instants due up to it. */
  upTo: string;
}

/** A batch of a cooperative's due streams: those with ids from `first` to `last`, in id order. */
export interface StreamBatch {
  first: string;
  last: string;
  streams: number;
}

export interface StreamBatchOutcome {
  streams: number;
  posted: number;
  /** Streams left with an interval no source could price. */
  unpriced: string[];
}

/** Remembers the boundary block of recent instants: every stream sampled at an instant shares it. */
function boundaryMemo(size: number) {
  const known = new Map<bigint, BlockInstant>();
  return async (client: ChainClient, instant: bigint, from: bigint): Promise<BlockInstant> => {
    const found = known.get(instant);
    if (found && found.number >= from) return found;
    const block = await boundaryBlock(client, instant, from);
    known.set(instant, block);
    if (known.size > size) known.delete(known.keys().next().value!);
    return block;
  };
}

const flowKey = (f: FlowKey) => `${f.token}:${f.sender}:${f.receiver}`.toLowerCase();
const isDue = (stream: Stream, upTo: Date) => dueInstants(stream.samplingInterval, new Date(stream.sampledUntil.at), upTo, 1).length > 0;

/**
 * Sampling: each active stream is sampled at every instant it is due (domain/sampling-instants.ts), in
 * order, from where its books stand. A sample's flow is computed from the chain's FlowUpdated history
 * between the two boundary blocks, exact in wei; it is priced through the stream's sources and posted
 * (db/ledger/ops/stream-sample.ts), idempotent by (stream, interval). Streams are sampled many at a
 * time, at the cost of a few: the boundary blocks of their instants are found once, their flows'
 * history is one log query, a price is fetched once per token, sources and interval, and the samples
 * are written a thousand per database transaction.
 */
export function streamSampler(deps: StreamActivityDependencies) {
  const priceInterval = streamPricer({ pool: deps.pool, chain: deps.chain, httpSources: deps.httpSources });
  const boundaryAt = boundaryMemo(64);
  const unpricedCounter = () => metricMeter.createCounter('stream_samples_unpriced', 'samples', 'Stream intervals no price source could price, left open');

  /** One round: every stream sampled at up to INSTANTS_PER_ROUND of its due instants. Outcomes in the streams' order. */
  async function sampleRound(client: ChainClient, streams: readonly Stream[], upTo: Date): Promise<StreamSampleOutcome[]> {
    const due = streams.map((stream) => dueInstants(stream.samplingInterval, new Date(stream.sampledUntil.at), upTo, INSTANTS_PER_ROUND).map(unixSeconds));
    // Every instant's boundary block, oldest first, each search starting from the one before.
    const instants = [...new Set(due.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const blocks = new Map<bigint, BlockInstant>();
    let from = streams.reduce((min, s) => (s.sampledUntil.block < min ? s.sampledUntil.block : min), streams[0]?.sampledUntil.block ?? 0n);
    for (const instant of instants) {
      const block = await boundaryAt(client, instant, from);
      blocks.set(instant, block);
      from = block.number;
    }
    // The flows' history over all of it, in one read.
    const history = new Map<string, FlowUpdate[]>();
    const to = instants.length > 0 ? blocks.get(instants.at(-1)!)!.number : 0n;
    const since = streams.reduce((min, s, i) => (due[i]!.length > 0 && s.sampledUntil.block < min ? s.sampledUntil.block : min), to);
    if (to > since) {
      const tokens = [...new Set(streams.map((s) => s.token))];
      for (const update of await readFlowUpdates(client, tokens.length <= MAX_TOKEN_FILTER ? { token: tokens } : {}, { fromBlock: since + 1n, toBlock: to })) {
        const key = flowKey(update);
        history.set(key, [...(history.get(key) ?? []), update]);
      }
    }
    // One price per token, sources and interval, however many streams share it.
    const prices = new Map<string, ReturnType<typeof priceInterval>>();
    const priceOf = (stream: Stream, start: bigint, end: bigint) => {
      const key = JSON.stringify([stream.token.toLowerCase(), stream.priceSources, stream.priceAveraging, start.toString(), end.toString()]);
      if (!prices.has(key)) prices.set(key, priceInterval(stream, start, end));
      return prices.get(key)!;
    };

    const plans: Array<{ at: number; plan: StreamSamplePlan }> = [];
    const outcomes: StreamSampleOutcome[] = [];
    for (const [i, stream] of streams.entries()) {
      let position: SamplingPosition = stream.sampledUntil;
      const updates = history.get(flowKey(stream)) ?? [];
      let outcome: StreamSampleOutcome | undefined;
      for (const instant of due[i]!) {
        const [start, end] = [unixSeconds(new Date(position.at)), instant];
        const block = blocks.get(instant)!;
        const changes = updates.filter((u) => u.blockNumber > position.block && u.blockNumber <= block.number);
        const flow = flowOver(position.flowRate, start, end, changes);
        const interval = { intervalStart: position.at, intervalEnd: fromUnixSeconds(instant).toISOString() };
        let pricing: SamplePricing | null = null;
        let amountUsd = 0n;
        if (flow.amount > 0n) {
          const priced = await priceOf(stream, start, end);
          if (!priced.priced) {
            await recordUnpricedInterval(deps.pool, stream, { ...interval, amountWei: flow.amount, reasons: priced.reasons });
            unpricedCounter().add(1);
            outcome = { status: 'unpriced', sampledUntil: position.at, posted: 0, ...interval, reasons: priced.reasons };
            break;
          }
          pricing = priced.pricing;
          amountUsd = weiToMicroUsd(flow.amount, priced.price);
        }
        plans.push({ at: i, plan: { stream, ...interval, amountWei: flow.amount, endFlowRate: flow.endRate, endBlock: block.number, pricing, amountUsd } });
        position = { at: interval.intervalEnd, flowRate: flow.endRate, block: block.number };
      }
      const more = due[i]!.length === INSTANTS_PER_ROUND && dueInstants(stream.samplingInterval, new Date(position.at), upTo, 1).length > 0;
      outcomes.push(outcome ?? { status: more ? 'behind' : 'caught_up', sampledUntil: position.at, posted: 0 });
    }

    // Posted in order: a stream's samples keep their order across writes.
    for (let n = 0; n < plans.length; n += SAMPLES_PER_WRITE) {
      const slice = plans.slice(n, n + SAMPLES_PER_WRITE);
      const posted = await postStreamSamples(deps.pool, streams[0]!.cooperativeId, slice.map((p) => p.plan));
      for (const [k, result] of posted.entries()) {
        const { at, plan } = slice[k]!;
        const outcome = outcomes[at]!;
        if (outcome.status === 'inactive') continue;
        // Deactivated meanwhile: its books stop where they are.
        if ('inactive' in result) outcomes[at] = { status: 'inactive', sampledUntil: plan.intervalStart, posted: outcome.posted };
        else outcome.posted++;
      }
      heartbeat();
    }
    return outcomes;
  }

  /** Samples `streams` up to `upTo`, round after round until none is behind. */
  async function sampleUntilCaughtUp(streams: Stream[], upTo: Date): Promise<StreamSampleOutcome[]> {
    const client = await deps.chain();
    const outcomes = new Map<string, StreamSampleOutcome>();
    let round = streams;
    while (round.length > 0) {
      const results = await sampleRound(client, round, upTo);
      const behind = new Set<string>();
      for (const [i, stream] of round.entries()) {
        const result = results[i]!;
        const earlier = outcomes.get(stream.id)?.posted ?? 0;
        outcomes.set(stream.id, { ...result, posted: earlier + result.posted });
        if (result.status === 'behind') behind.add(stream.id);
      }
      round = behind.size === 0 ? [] : (await streamsBetween(deps.pool, streams[0]!.cooperativeId, { ids: [...behind] })).filter((s) => isDue(s, upTo));
    }
    return streams.map((s) => outcomes.get(s.id) ?? { status: 'caught_up', sampledUntil: s.sampledUntil.at, posted: 0 });
  }

  async function sampleStream(input: SampleStreamInput): Promise<StreamSampleOutcome> {
    const stream = await findStream(deps.pool, input.cooperativeId, input.streamId);
    if (!stream) throw new BusinessError('NOT_FOUND', `stream ${input.streamId} not found`);
    if (stream.status !== 'active') return { status: 'inactive', sampledUntil: stream.sampledUntil.at, posted: 0 };
    return (await sampleUntilCaughtUp([stream], new Date(input.upTo)))[0]!;
  }

  return {
    /** The cooperative's active streams that have an instant due up to `upTo`, in batches of `size` by id. */
    streamBatches(input: { cooperativeId: string; upTo: string; size: number }): Promise<StreamBatch[]> {
      return asActivity(async () => {
        const due = (await streamsBetween(deps.pool, input.cooperativeId, {})).filter((s) => isDue(s, new Date(input.upTo)));
        const batches: StreamBatch[] = [];
        for (let i = 0; i < due.length; i += input.size) {
          const slice = due.slice(i, i + input.size);
          batches.push({ first: slice[0]!.id, last: slice.at(-1)!.id, streams: slice.length });
        }
        return batches;
      });
    },

    /** The ids of a batch's streams that are still due: a batch that failed is sampled stream by stream. */
    streamsDue(input: { cooperativeId: string; upTo: string; batch: StreamBatch }): Promise<string[]> {
      return asActivity(async () => {
        const streams = await streamsBetween(deps.pool, input.cooperativeId, { first: input.batch.first, last: input.batch.last });
        return streams.filter((s) => isDue(s, new Date(input.upTo))).map((s) => s.id);
      });
    },

    /** Samples a batch's streams up to `upTo`, each at every instant it is due. */
    sampleStreamBatch(input: { cooperativeId: string; upTo: string; batch: StreamBatch }): Promise<StreamBatchOutcome> {
      return asActivity(async () => {
        const upTo = new Date(input.upTo);
        const streams = (await streamsBetween(deps.pool, input.cooperativeId, { first: input.batch.first, last: input.batch.last })).filter((s) => isDue(s, upTo));
        const outcomes = await sampleUntilCaughtUp(streams, upTo);
        return {
          streams: streams.length,
          posted: outcomes.reduce((sum, o) => sum + o.posted, 0),
          unpriced: streams.filter((_, i) => outcomes[i]!.status === 'unpriced').map((s) => s.id),
        };
      });
    },

    /** Fails (to be retried) until the chain has a block at or after the instant: before that, its past may still change. */
    async chainReached(input: { instant: string }): Promise<void> {
      const head = await blockInstant(await deps.chain(), 'latest');
      if (head.timestamp < unixSeconds(new Date(input.instant))) {
        throw ApplicationFailure.retryable(`the chain has not reached ${input.instant} (its latest block is at ${fromUnixSeconds(head.timestamp).toISOString()})`, 'CHAIN_NOT_REACHED');
      }
    },

    /** Samples one stream at each of its instants due up to `upTo`, in order; see StreamSampleOutcome. */
    sampleStream: (input: SampleStreamInput) => asActivity(() => sampleStream(input)),

    /**
     * For the dead-letter queue: samples until the stream is sampled up to the instant (or is inactive),
     * and fails with why not otherwise, so the item stays until the interval is posted.
     */
    async sampleStreamFully(input: SampleStreamInput): Promise<StreamSampleOutcome> {
      const outcome = await sampleStream(input);
      if (outcome.status === 'unpriced') throw new Error(`[${outcome.intervalStart}, ${outcome.intervalEnd}) could not be priced: ${outcome.reasons.join('; ')}`);
      return outcome;
    },
  };
}

export type StreamSampler = ReturnType<typeof streamSampler>;

/** The sampling workflow's activities (the sampler's dead-letter handler is the queue's). */
export function createStreamActivities(sampler: StreamSampler) {
  const { streamBatches, streamsDue, sampleStreamBatch, chainReached, sampleStream } = sampler;
  return { streamBatches, streamsDue, sampleStreamBatch, chainReached, sampleStream };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
