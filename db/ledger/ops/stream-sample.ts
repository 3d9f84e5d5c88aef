import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { DomainEvent } from '../../../domain/events';
import { formatMicros } from '../../../domain/money';
import { STREAM_ACCOUNT_CODES, streamSampleKey, type SamplePricing, type Stream, type StreamSample } from '../../../domain/streams';
import { idempotent, requestHash } from '../../idempotency';
import { recordEvent } from '../../outbox';
import { sampleByKey, SAMPLE_COLUMNS, toSample, type SampleRow } from '../../stream-samples';
import { inTenantTransaction } from '../../transaction';
import { resolveAccounts } from '../accounts';
import { credit, debit } from '../postings';
import { writeTransaction } from '../write-transaction';

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

/**
 * Posts one stream sample: the sample and, when it is worth any µUSD, its balanced ledger transaction
 * (`stream_sample`), in one database transaction with its `stream.sampled` event. Inbound: Dr 1310
 * streamed tokens held / Cr 4610 stream revenue; outbound: Dr the stream's expense, compensation or
 * distribution account / Cr 1310. Idempotent by (stream, interval): the key is bound to the stream and
 * the interval only, so a retry that priced again, a schedule firing twice or a backfill replays the
 * first result. The database refuses a sample that does not start where the stream's books stand.
 */
export function postStreamSample(pool: Pool, plan: StreamSamplePlan): Promise<{ sample: StreamSample; replayed: boolean }> {
  const { stream } = plan;
  const key = streamSampleKey(stream.id, plan.intervalStart, plan.intervalEnd);
  const hash = requestHash('stream-sample', { cooperativeId: stream.cooperativeId, streamId: stream.id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd });
  return inTenantTransaction(pool, stream.cooperativeId, async (client) => {
    const made = await idempotent(key, hash, () => sampleByKey(client, key), async () => {
      const id = randomUUID();
      const transactionId = plan.amountUsd > 0n ? randomUUID() : null;
      const event: DomainEvent = {
        type: 'stream.sampled',
        aggregateId: stream.id,
        payload: {
          streamId: stream.id, sampleId: id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd, amountWei: plan.amountWei.toString(),
          amountUsd: formatMicros(plan.amountUsd), denomination: stream.denomination, priceSource: plan.pricing?.source ?? null, transactionId,
        },
      };
      if (transactionId) {
        const [held, booked] = await resolveAccounts(client, stream.cooperativeId, [{ cooperative: 'streamTokens' }, { cooperative: STREAM_ACCOUNT_CODES[stream.account] }]);
        const [dr, cr] = stream.direction === 'inbound' ? [held!, booked!] : [booked!, held!];
        await writeTransaction(client, {
          id: transactionId, cooperativeId: stream.cooperativeId, type: 'stream_sample', idempotencyKey: key, requestHash: hash,
          metadata: { streamId: stream.id, sampleId: id, intervalStart: plan.intervalStart, intervalEnd: plan.intervalEnd, amountWei: plan.amountWei.toString() },
          entries: [debit(dr, plan.amountUsd), credit(cr, plan.amountUsd)],
          events: [event],
        });
      } else {
        await recordEvent(client, stream.cooperativeId, event);
      }
      const p = plan.pricing;
      const { rows } = await client.query<SampleRow>(
        `INSERT INTO stream_samples (id, cooperative_id, stream_id, interval_start, interval_end, amount_wei, end_flow_rate, end_block, price_source, price_reference,
                                     price_averaging, price, price_observed_at, price_age_seconds, amount_usd, transaction_id, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING ${SAMPLE_COLUMNS}`,
        [
          id, stream.cooperativeId, stream.id, plan.intervalStart, plan.intervalEnd, plan.amountWei.toString(), plan.endFlowRate.toString(), plan.endBlock,
          p?.source ?? null, p?.reference ?? null, p?.averaging ?? null, p?.price.toString() ?? null, p?.observedAt ?? null, p?.ageSeconds ?? null,
          plan.amountUsd, transactionId, key, hash,
        ],
      );
      return rows[0]!;
    });
    return { sample: toSample(made.row), replayed: made.replayed };
  });
}
