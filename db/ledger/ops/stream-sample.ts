import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { DomainEvent } from '../../../domain/events';
import { formatMicros } from '../../../domain/money';
import { BusinessError } from '../../../domain/errors';
import { STREAM_ACCOUNT_CODES, streamSampleKey, type SamplePricing, type Stream, type StreamAccount, type StreamSample } from '../../../domain/streams';
import { replayOf, requestHash } from '../../idempotency';
import { toJsonParam } from '../../json';
import { recordEventsStatement } from '../../outbox';
import { samplesByKey, SAMPLE_COLUMNS, toSample, type SampleRow } from '../../stream-samples';
import { activeStreamIds } from '../../streams';
import { inTenantTransaction } from '../../transaction';
import { resolveAccounts } from '../accounts';
import { credit, debit } from '../postings';
import { writeTransactions } from '../write-transaction';

export interface StreamSamplePlan {
  stream: Pick<Stream, 'id' | 'cooperativeId' | 'direction' | 'account' | 'denomination'>;
  intervalStart: string;
  intervalEnd: string;
  amountWei: bigint;
  endFlowRate: bigint;
  endBlock: bigint;
  /** Required when anything flowed. */
  pricing: SamplePricing | null;
  amountUsd: bigint;
}

/** What posting a sample did: written, replayed (posted before with the same interval), or refused because the stream was deactivated meanwhile. */
export type PostedSample = { sample: StreamSample; replayed: boolean } | { inactive: true };

/** One sample: see postStreamSamples. A deactivated stream is a CONFLICT here. */
export async function postStreamSample(pool: Pool, plan: StreamSamplePlan): Promise<{ sample: StreamSample; replayed: boolean }> {
  const [posted] = await postStreamSamples(pool, plan.stream.cooperativeId, [plan]);
  if ('inactive' in posted!) throw new BusinessError('CONFLICT', `stream ${plan.stream.id} is not active`);
  return posted!;
}

/**
 * Posts stream samples of one cooperative, in one database transaction, whatever their number (a
 * sampling run posts hundreds at a time): each sample and, when it is worth any µUSD, its balanced
 * ledger transaction (`stream_sample`), with its `stream.sampled` event. Inbound: Dr 1310 streamed
 * tokens held / Cr 4610 stream revenue; outbound: Dr the stream's expense, compensation or
 * distribution account / Cr 1310. Each is idempotent by (stream, interval): the key is bound to the
 * stream and the interval only, so a retry that priced again, a schedule firing twice or a backfill
 * replays the first result. The database refuses a sample that does not start where the stream's
 * books stand; a stream's samples are given in interval order. A concurrent twin of the batch makes
 * this one fail on a key and run again (db/transaction.ts), replaying it.
 */
export function postStreamSamples(pool: Pool, cooperativeId: string, plans: readonly StreamSamplePlan[]): Promise<PostedSample[]> {
  const keyed = plans.map((plan) => {
    if (plan.stream.cooperativeId !== cooperativeId) throw new RangeError('a batch of samples belongs to one cooperative');
    const { stream } = plan;
    return {
      plan,
      key: streamSampleKey(stream.id, plan.intervalStart, plan.intervalEnd),
      hash: requestHash('stream-sample', { cooperativeId, streamId: stream.id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd }),
    };
  });
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const earlier = await samplesByKey(client, keyed.map((k) => k.key));
    const active = await activeStreamIds(client, [...new Set(plans.map((p) => p.stream.id))]);
    const outcomes: PostedSample[] = [];
    const fresh: Array<{ at: number; plan: StreamSamplePlan; key: string; hash: string; id: string; transactionId: string | null; event: DomainEvent }> = [];
    for (const { plan, key, hash } of keyed) {
      const replay = replayOf(earlier.get(key) && { requestHash: earlier.get(key)!.request_hash }, hash, key);
      if (replay) {
        outcomes.push({ sample: toSample(earlier.get(key)!), replayed: true });
        continue;
      }
      if (!active.has(plan.stream.id)) {
        outcomes.push({ inactive: true });
        continue;
      }
      const id = randomUUID();
      const transactionId = plan.amountUsd > 0n ? randomUUID() : null;
      const event: DomainEvent = {
        type: 'stream.sampled',
        aggregateId: plan.stream.id,
        payload: {
          streamId: plan.stream.id, sampleId: id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd, amountWei: plan.amountWei.toString(),
          amountUsd: formatMicros(plan.amountUsd), denomination: plan.stream.denomination, priceSource: plan.pricing?.source ?? null, transactionId,
        },
      };
      fresh.push({ at: outcomes.length, plan, key, hash, id, transactionId, event });
      outcomes.push({ inactive: true }); // replaced below, once written
    }
    if (fresh.length === 0) return outcomes;

    const posted = fresh.filter((f) => f.transactionId !== null);
    if (posted.length > 0) {
      const used = [...new Set(posted.map((f) => f.plan.stream.account))] as StreamAccount[];
      const [held, ...booked] = await resolveAccounts(client, cooperativeId, [{ cooperative: 'streamTokens' }, ...used.map((a) => ({ cooperative: STREAM_ACCOUNT_CODES[a] }))]);
      const account = new Map(used.map((a, i) => [a, booked[i]!]));
      await writeTransactions(
        client,
        posted.map(({ plan, key, hash, id, transactionId, event }) => {
          const other = account.get(plan.stream.account)!;
          const [dr, cr] = plan.stream.direction === 'inbound' ? [held!, other] : [other, held!];
          return {
            id: transactionId!, cooperativeId, type: 'stream_sample' as const, idempotencyKey: key, requestHash: hash,
            metadata: { streamId: plan.stream.id, sampleId: id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd, amountWei: plan.amountWei.toString() },
            entries: [debit(dr, plan.amountUsd), credit(cr, plan.amountUsd)],
            events: [event],
          };
        }),
      );
    }
    const unposted = fresh.filter((f) => f.transactionId === null).map((f) => f.event);
    if (unposted.length > 0) await client.query(recordEventsStatement(cooperativeId, unposted));

    const { rows } = await client.query<SampleRow>(
      `INSERT INTO stream_samples (id, cooperative_id, stream_id, interval_start, interval_end, amount_wei, end_flow_rate, end_block, price_source, price_reference,
                                   price_averaging, price, price_observed_at, price_age_seconds, amount_usd, transaction_id, idempotency_key, request_hash)
       SELECT x.id, $1, x.stream_id, x.interval_start, x.interval_end, x.amount_wei, x.end_flow_rate, x.end_block, x.price_source, x.price_reference,
              x.price_averaging, x.price, x.price_observed_at, x.price_age_seconds, x.amount_usd, x.transaction_id, x.idempotency_key, x.request_hash
         FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, stream_id uuid, interval_start timestamptz, interval_end timestamptz, amount_wei numeric, end_flow_rate numeric,
              end_block bigint, price_source text, price_reference text, price_averaging text, price numeric, price_observed_at timestamptz, price_age_seconds bigint,
              amount_usd bigint, transaction_id uuid, idempotency_key text, request_hash text, n integer)
        ORDER BY x.n
       RETURNING ${SAMPLE_COLUMNS}`,
      [
        cooperativeId,
        toJsonParam(
          fresh.map(({ plan, key, hash, id, transactionId }, n) => {
            const p = plan.pricing;
            return {
              id, stream_id: plan.stream.id, interval_start: plan.intervalStart, interval_end: plan.intervalEnd, amount_wei: plan.amountWei, end_flow_rate: plan.endFlowRate,
              end_block: plan.endBlock, price_source: p?.source ?? null, price_reference: p?.reference ?? null, price_averaging: p?.averaging ?? null, price: p?.price ?? null,
              price_observed_at: p?.observedAt ?? null, price_age_seconds: p?.ageSeconds ?? null, amount_usd: plan.amountUsd, transaction_id: transactionId,
              idempotency_key: key, request_hash: hash, n,
            };
          }),
        ),
      ],
    );
    const written = new Map(rows.map((r) => [r.id, r]));
    for (const f of fresh) outcomes[f.at] = { sample: toSample(written.get(f.id)!), replayed: false };
    return outcomes;
  });
}
