import {
  PRICE_AVERAGING, SAMPLING_INTERVALS, STREAM_ACCOUNTS, STREAM_ACCOUNTS_BY_DIRECTION, STREAM_DENOMINATIONS, STREAM_DIRECTIONS, STREAM_STATUSES, streamAccountProblem,
  PRICE_SOURCE_TYPES, type Stream, type StreamSample,
} from '../../domain/streams';
import { formatPrice } from '../../domain/prices';
import { formatMicros } from '../../domain/money';
import { EthAddress, SafeText, Uuid } from './common';
import { z } from './zod';

export const StreamParams = z.strictObject({ cooperativeId: Uuid, streamId: Uuid });

const DAY = 86_400;
const MaxAge = (fallback: number) =>
  z.number().int().min(1).max(366 * DAY).default(fallback).openapi({ description: `seconds an observation stays usable after it was made (default ${fallback})` });
const Name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (1-64)');

/** Tried in order; the first that has a fresh price prices the sample. */
const PriceSourceBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('chainlink'), aggregator: EthAddress.openapi({ description: 'a Chainlink-style aggregator (AggregatorV3Interface) on the chain' }), maxAgeSeconds: MaxAge(DAY) }),
  z.strictObject({ type: z.literal('http'), source: Name.openapi({ description: 'a source named in PRICE_HTTP_SOURCES' }), asset: Name.openapi({ description: 'what the source calls the token', example: 'dai' }), maxAgeSeconds: MaxAge(DAY) }),
  z.strictObject({ type: z.literal('manual'), maxAgeSeconds: MaxAge(7 * DAY) }),
]);

export const RegisterStreamBody = z
  .strictObject({
    name: SafeText(1, 200).optional(),
    token: EthAddress.openapi({ description: 'the super token that flows' }),
    sender: EthAddress,
    receiver: EthAddress,
    direction: z.enum(STREAM_DIRECTIONS).openapi({ description: 'inbound: revenue to the cooperative; outbound: paid by it' }),
    account: z.enum(STREAM_ACCOUNTS).optional().openapi({ description: 'where samples post: revenue (inbound); expense (the default), member_compensation or distribution (outbound)' }),
    samplingInterval: z.enum(SAMPLING_INTERVALS).default('daily').openapi({ description: 'hourly, daily (00:00 UTC), weekly (Monday 00:00 UTC) or period_end only; every stream is also sampled at each period end' }),
    priceSources: z.array(PriceSourceBody).min(1).max(10).openapi({ description: 'in the order they are tried' }),
    priceAveraging: z.enum(PRICE_AVERAGING).default('spot').openapi({ description: "spot: the price at the interval's end; twap: its time-weighted average over the interval" }),
    denomination: z.enum(STREAM_DENOMINATIONS).default('usd').openapi({ description: 'the unit the agreement is stated in; samples post USD and keep the token amount in wei either way' }),
  })
  .superRefine((body, ctx) => {
    if (body.sender === body.receiver) ctx.addIssue({ code: 'custom', path: ['receiver'], message: 'must differ from the sender' });
    const problem = body.account && streamAccountProblem(body.direction, body.account);
    if (problem) ctx.addIssue({ code: 'custom', path: ['account'], message: problem });
  })
  .transform((body) => ({ ...body, account: body.account ?? STREAM_ACCOUNTS_BY_DIRECTION[body.direction][0]! }))
  .openapi('RegisterStream');

const Wei = z.string().regex(/^\d+$/).openapi({ description: 'a token quantity in its smallest unit (wei), as a decimal string' });

const PositionView = z.object({
  at: z.iso.datetime().openapi({ description: "the chain's timestamp" }),
  flowRate: Wei.openapi({ description: 'wei per second in force from then on' }),
  block: z.string().regex(/^\d+$/),
});

export const StreamView = z
  .object({
    id: Uuid,
    cooperativeId: Uuid,
    name: z.string().nullable(),
    token: z.string(),
    sender: z.string(),
    receiver: z.string(),
    direction: z.enum(STREAM_DIRECTIONS),
    account: z.enum(STREAM_ACCOUNTS),
    samplingInterval: z.enum(SAMPLING_INTERVALS),
    priceSources: z.array(z.looseObject({ type: z.string(), maxAgeSeconds: z.number().int() })),
    priceAveraging: z.enum(PRICE_AVERAGING),
    denomination: z.enum(STREAM_DENOMINATIONS),
    status: z.enum(STREAM_STATUSES),
    registeredAt: PositionView.openapi({ description: 'where the chain stood when the stream was registered: sampling starts there' }),
    sampledUntil: PositionView.openapi({ description: 'where its books stand: the end of its last sample (or its registration)' }),
    createdAt: z.iso.datetime(),
    deactivatedAt: z.iso.datetime().nullable(),
  })
  .openapi('Stream');

export const StreamPage = z.object({ items: z.array(StreamView), nextCursor: z.string().nullable() }).openapi('StreamPage');

export const StreamListQuery = z.strictObject({
  status: z.enum(STREAM_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

const position = (p: Stream['registeredAt']) => ({ at: p.at, flowRate: p.flowRate.toString(), block: p.block.toString() });

export const streamView = (s: Stream): z.infer<typeof StreamView> => ({ ...s, registeredAt: position(s.registeredAt), sampledUntil: position(s.sampledUntil) });

export const SampleView = z
  .object({
    id: Uuid,
    streamId: Uuid,
    intervalStart: z.iso.datetime().openapi({ description: 'the interval is half-open: [intervalStart, intervalEnd)' }),
    intervalEnd: z.iso.datetime(),
    amountWei: Wei.openapi({ description: 'what the flow moved over the interval, exactly' }),
    endFlowRate: Wei.openapi({ description: "wei per second in force at the interval's end" }),
    endBlock: z.string().regex(/^\d+$/),
    pricing: z
      .object({
        source: z.enum(PRICE_SOURCE_TYPES),
        reference: z.string().openapi({ description: "the aggregator (and round), the HTTP source and asset, or the manual price's id" }),
        averaging: z.enum(PRICE_AVERAGING),
        price: z.string().openapi({ description: 'USD per token (an average rounded to 18 decimals)', example: '1.0002' }),
        observedAt: z.iso.datetime(),
        ageSeconds: z.string().regex(/^\d+$/),
      })
      .nullable()
      .openapi({ description: 'none when nothing flowed' }),
    amountUsd: z.string().openapi({ description: 'USD posted, to the µUSD (rounded half up once)', example: '12.345678' }),
    transactionId: Uuid.nullable().openapi({ description: 'the ledger transaction; none for a sample worth 0 µUSD' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('StreamSample');

export const SamplePage = z.object({ items: z.array(SampleView), nextCursor: z.string().nullable() }).openapi('StreamSamplePage');

export const SampleListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});

export const sampleView = (s: StreamSample): z.infer<typeof SampleView> => ({
  id: s.id, streamId: s.streamId, intervalStart: s.intervalStart, intervalEnd: s.intervalEnd, amountWei: s.amountWei.toString(), endFlowRate: s.endFlowRate.toString(),
  endBlock: s.endBlock.toString(),
  pricing: s.pricing && { ...s.pricing, price: formatPrice(s.pricing.price), ageSeconds: s.pricing.ageSeconds.toString() },
  amountUsd: formatMicros(s.amountUsd), transactionId: s.transactionId, createdAt: s.createdAt,
});
