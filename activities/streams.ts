import { ApplicationFailure, heartbeat, metricMeter } from '@temporalio/activity';
import type { Pool } from 'pg';
import { blockInstant, boundaryBlock, readFlowUpdates, type BlockInstant, type ChainClient, type ChainConnector } from '../clients/chain';
import { postStreamSample } from '../db/ledger';
import { recordUnpricedInterval } from '../db/stream-samples';
import { activeStreams, findStream } from '../db/streams';
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

/** How far one call catches a stream up: an hourly stream a month behind takes a few calls. */
const INSTANTS_PER_CALL = 200;

/** What sampling one stream up to an instant did. */
export type StreamSampleOutcome = { sampledUntil: string; posted: number } & (
  | { status: 'caught_up' }
  /** More instants are due than one call takes: call again. */
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

/**
 * Sampling: each active stream is sampled at every instant it is due (domain/sampling-instants.ts), in
 * order, from where its books stand. A sample's flow is computed from the chain's FlowUpdated history
 * between the two boundary blocks, exact in wei; it is priced through the stream's sources and posted
 * (db/ledger/ops/stream-sample.ts), idempotent by (stream, interval).
 */
export function streamSampler(deps: StreamActivityDependencies) {
  const priceInterval = streamPricer({ pool: deps.pool, chain: deps.chain, httpSources: deps.httpSources });
  const boundaryAt = boundaryMemo(64);
  const unpricedCounter = () => metricMeter.createCounter('stream_samples_unpriced', 'samples', 'Stream intervals no price source could price, left open');

  async function sample(client: ChainClient, stream: Stream, upTo: Date): Promise<StreamSampleOutcome> {
    let position: SamplingPosition = stream.sampledUntil;
    let posted = 0;
    const instants = dueInstants(stream.samplingInterval, new Date(position.at), upTo, INSTANTS_PER_CALL);
    // Every instant's boundary block first, then the flow's history over all of them in one read.
    const blocks: BlockInstant[] = [];
    for (const instant of instants) blocks.push(await boundaryAt(client, unixSeconds(instant), blocks.at(-1)?.number ?? position.block));
    const last = blocks.at(-1);
    const history =
      last && last.number > position.block
        ? await readFlowUpdates(client, { token: stream.token, sender: stream.sender, receiver: stream.receiver }, { fromBlock: position.block + 1n, toBlock: last.number })
        : [];
    for (const [i, instant] of instants.entries()) {
      const [start, end] = [unixSeconds(new Date(position.at)), unixSeconds(instant)];
      const block = blocks[i]!;
      const changes = history.filter((u) => u.blockNumber > position.block && u.blockNumber <= block.number);
      const flow = flowOver(position.flowRate, start, end, changes);
      const interval = { intervalStart: position.at, intervalEnd: instant.toISOString() };
      let pricing: SamplePricing | null = null;
      let amountUsd = 0n;
      if (flow.amount > 0n) {
        const priced = await priceInterval(stream, start, end);
        if (!priced.priced) {
          await recordUnpricedInterval(deps.pool, stream, { ...interval, amountWei: flow.amount, reasons: priced.reasons });
          unpricedCounter().add(1);
          return { status: 'unpriced', sampledUntil: position.at, posted, ...interval, reasons: priced.reasons };
        }
        pricing = priced.pricing;
        amountUsd = weiToMicroUsd(flow.amount, priced.price);
      }
      try {
        await postStreamSample(deps.pool, { stream, ...interval, amountWei: flow.amount, endFlowRate: flow.endRate, endBlock: block.number, pricing, amountUsd });
      } catch (err) {
        // Deactivated meanwhile: its books stop where they are.
        if ((err as { constraint?: string }).constraint === 'stream_samples_active_stream') return { status: 'inactive', sampledUntil: position.at, posted };
        throw err;
      }
      posted++;
      position = { at: interval.intervalEnd, flowRate: flow.endRate, block: block.number };
      heartbeat();
    }
    const more = instants.length === INSTANTS_PER_CALL && dueInstants(stream.samplingInterval, new Date(position.at), upTo, 1).length > 0;
    return { status: more ? 'behind' : 'caught_up', sampledUntil: position.at, posted };
  }

  async function sampleStream(input: SampleStreamInput): Promise<StreamSampleOutcome> {
    const stream = await findStream(deps.pool, input.cooperativeId, input.streamId);
    if (!stream) throw new BusinessError('NOT_FOUND', `stream ${input.streamId} not found`);
    if (stream.status !== 'active') return { status: 'inactive', sampledUntil: stream.sampledUntil.at, posted: 0 };
    return sample(await deps.chain(), stream, new Date(input.upTo));
  }

  return {
    /** The cooperative's active streams that have an instant due up to `upTo`. */
    streamsDue(input: { cooperativeId: string; upTo: string }): Promise<string[]> {
      return asActivity(async () => {
        const streams = await activeStreams(deps.pool, input.cooperativeId);
        return streams.filter((s) => dueInstants(s.samplingInterval, new Date(s.sampledUntil.at), new Date(input.upTo), 1).length > 0).map((s) => s.id);
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
      for (;;) {
        const outcome = await sampleStream(input);
        if (outcome.status === 'unpriced') throw new Error(`[${outcome.intervalStart}, ${outcome.intervalEnd}) could not be priced: ${outcome.reasons.join('; ')}`);
        if (outcome.status !== 'behind') return outcome;
      }
    },
  };
}

export type StreamSampler = ReturnType<typeof streamSampler>;

/** The sampling workflow's activities (the sampler's dead-letter handler is the queue's). */
export function createStreamActivities(sampler: StreamSampler) {
  const { streamsDue, chainReached, sampleStream } = sampler;
  return { streamsDue, chainReached, sampleStream };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
