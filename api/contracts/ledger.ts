import { TRANSACTION_TYPES, type LedgerTransaction } from '../../domain/ledger-types';
import { visibleKey } from '../../db/idempotency';
import { LOT_CATEGORIES } from '../../domain/lots';
import type { MemberBalance } from '../../domain/member-balance';
import { CURRENCIES, formatMicros } from '../../domain/money';
import { MAX_USAGE_BATCH, PRIMITIVES } from '../../domain/rate-card';
import { ErrorBody, IdempotencyKey, pageQuery, SafeText, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
import { PositionView, positionView } from './staking';
import { z } from './zod';

export const CooperativeScope = z.strictObject({ cooperativeId: Uuid });
export const MemberScope = z.strictObject({ cooperativeId: Uuid, memberId: Uuid });

export const TransactionView = z
  .object({
    id: Uuid,
    type: z.enum(TRANSACTION_TYPES),
    idempotencyKey: z.string(),
    reversesTransactionId: Uuid.nullable(),
    createdAt: z.iso.datetime(),
    metadata: z.record(z.string(), z.unknown()),
    entries: z.array(z.object({ accountCode: z.string(), memberId: Uuid.nullable(), currency: z.enum(CURRENCIES), amount: AmountString })),
  })
  .openapi('Transaction');

export function transactionView(t: LedgerTransaction): z.infer<typeof TransactionView> {
  return {
    id: t.id, type: t.type, idempotencyKey: visibleKey(t.idempotencyKey), reversesTransactionId: t.reversesTransactionId, createdAt: t.createdAt, metadata: t.metadata,
    entries: t.entries.map((e) => ({ accountCode: e.accountCode, memberId: e.memberId, currency: e.currency, amount: formatMicros(e.amount) })),
  };
}

export const TransactionPage = z.object({ items: z.array(TransactionView), nextCursor: z.string().nullable() }).openapi('TransactionPage');

export const TransactionListQuery = z.strictObject({
  ...pageQuery,
});

export const BalanceView = z
  .object({
    memberId: Uuid,
    currency: z.literal('CLOUD'),
    available: AmountString,
    held: AmountString,
    expiring: AmountString,
    wallet: AmountString,
    staked: AmountString,
    positions: z.array(PositionView).openapi({ description: 'the active staking positions, oldest first: the staked part, position by position' }),
    debt: AmountString,
    lots: z.array(
      z.object({
        id: Uuid, source: z.string(), sourceId: z.string(), category: z.enum(LOT_CATEGORIES), priority: z.number().int(),
        expiresAt: z.iso.datetime().nullable(), original: AmountString, available: AmountString, reserved: AmountString, expired: z.boolean(),
      }),
    ).openapi({ description: 'the open lots in consumption order, at most the first 100; the totals above cover them all' }),
    lotCount: z.number().int().openapi({ description: 'how many open lots the wallet has in all' }),
  })
  .openapi('Balance');

export function balanceView(b: MemberBalance): z.infer<typeof BalanceView> {
  return {
    memberId: b.memberId, currency: 'CLOUD', available: formatMicros(b.available), held: formatMicros(b.held), expiring: formatMicros(b.expiring),
    wallet: formatMicros(b.wallet), staked: formatMicros(b.staked), positions: b.positions.map(positionView), debt: formatMicros(b.debt),
    lots: b.lots.map((l) => ({ ...l, original: formatMicros(l.original), available: formatMicros(l.available), reserved: formatMicros(l.reserved) })),
    lotCount: b.lotCount,
  };
}

export const TransferBody = z
  .strictObject({
    /** Members transfer from their own wallet and may omit it; admins and services name it. */
    fromMemberId: Uuid.optional(),
    toMemberId: Uuid,
    amount: PositiveAmount,
    memo: SafeText(1, 500).optional(),
  })
  .openapi('Transfer');

const usageFields = {
  memberId: Uuid,
  primitive: z.enum(PRIMITIVES),
  quantity: PositiveAmount.openapi({ type: 'string', example: '1.5', description: 'quantity of the primitive, up to 6 decimals' }),
  usageAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'when the resource was used (default: now); prices at the rate card in force then' }),
};

export const UsageBody = z.strictObject(usageFields).openapi('UsageRedemption');

export const UsageBatchBody = z
  .strictObject({
    records: z
      .array(z.strictObject({ ...usageFields, idempotencyKey: IdempotencyKey.openapi({ description: "the record's own key: a replay returns its first result" }) }))
      .min(1)
      .max(MAX_USAGE_BATCH, { message: `a batch holds at most ${MAX_USAGE_BATCH} usage records` }),
  })
  .openapi('UsageBatch');

/** A batch record's outcome: its redemption (new or replayed), or why this record alone was refused. */
export const UsageOutcomeView = z
  .object({
    index: z.number().int().openapi({ description: "the record's position in the request" }),
    idempotencyKey: z.string(),
    status: z.number().int().openapi({ description: '201 redeemed, 200 replayed, or the status the single usage route would answer this error with' }),
    replayed: z.boolean().optional(),
    transactionId: Uuid.optional(),
    amount: AmountString.optional().openapi({ description: 'CLOUD taken from the wallet' }),
    rateCardVersion: z.number().int().optional(),
    createdAt: z.iso.datetime().optional(),
    error: ErrorBody.shape.error.optional(),
  })
  .openapi('UsageOutcome');

export const UsageBatchView = z
  .object({
    results: z.array(UsageOutcomeView),
    redeemed: z.number().int(),
    replayed: z.number().int(),
    failed: z.number().int(),
  })
  .openapi('UsageBatchResult');
