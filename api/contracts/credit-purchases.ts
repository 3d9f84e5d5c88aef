import { CREDIT_PACKS } from '../../domain/credit-packs';
import { PURCHASE_STATUSES, type CreditPurchase } from '../../domain/credit-purchase';
import { formatMicros } from '../../domain/money';
import { createdRangeQuery, pageOf, pageQuery, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
import { z } from './zod';

export const CreateCreditPurchaseBody = z
  .strictObject({
    amount: PositiveAmount.optional().openapi({ type: 'string', example: '5', description: 'CLOUD to buy (1 CLOUD = 10 USD)' }),
    pack: z.enum(Object.keys(CREDIT_PACKS) as [keyof typeof CREDIT_PACKS]).optional(),
  })
  .refine((b) => (b.amount === undefined) !== (b.pack === undefined), 'give either amount or pack')
  .openapi('CreateCreditPurchase');

export const PurchaseParams = z.strictObject({ purchaseId: Uuid });

export const CreditPurchaseView = z
  .object({
    id: Uuid,
    memberId: Uuid,
    status: z.enum(PURCHASE_STATUSES),
    amount: AmountString,
    amountUsd: AmountString,
    pack: z.string().nullable(),
    paymentIntentId: z.string().nullable(),
    clientSecret: z.string().nullable().openapi({ description: 'for Stripe.js confirmPayment' }),
    mintTransactionId: Uuid.nullable(),
    refundedUsd: AmountString,
    workflowId: z.string(),
    createdAt: z.iso.datetime(),
    history: z.array(z.object({ status: z.string(), step: z.string(), detail: z.record(z.string(), z.unknown()), at: z.string() })),
  })
  .openapi('CreditPurchase');

export function creditPurchaseView(p: CreditPurchase, workflowId: string): z.infer<typeof CreditPurchaseView> {
  return {
    id: p.id, memberId: p.memberId, status: p.status, amount: formatMicros(p.amount), amountUsd: formatMicros(p.amountCents * 10_000n), pack: p.pack,
    paymentIntentId: p.paymentIntentId, clientSecret: p.clientSecret, mintTransactionId: p.mintTransaction, refundedUsd: formatMicros(p.refundedCents * 10_000n),
    workflowId, createdAt: p.createdAt, history: p.history,
  };
}

export const CreditPurchasePage = pageOf(CreditPurchaseView, 'CreditPurchasePage');

export const CreditPurchaseListQuery = z.strictObject({ memberId: Uuid.optional(), status: z.enum(PURCHASE_STATUSES).optional(), ...createdRangeQuery, ...pageQuery });
