import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../../../domain/errors';
import { usageTimeProblem } from '../../../domain/time-bounds';
import { formatMicros, priceUsage } from '../../../domain/money';
import type { Primitive } from '../../../domain/rate-card';
import { allocateOrFail, consume } from '../lots';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransaction } from '../write-transaction';
import { rateInForceStatement, toRateInForce } from '../../rate-cards';
import { categoryOf } from '../lots';
import { retireAccountRefs, retirePostings, splitByCategory, toRetireAccounts } from './retire';

export interface RedeemUsageRequest {
  cooperativeId: string;
  memberId: string;
  primitive: Primitive;
  /** Quantity in millionths of the primitive's unit (1.5 compute-hours = 1_500_000n). */
  quantity: bigint;
  /**
   * When the resource was used: the rate card in force then prices it. Omitted means now, and then it
   * is not part of the request an idempotency key is bound to, so a retry replays instead of conflicting.
   */
  usageAt?: Date;
  idempotencyKey: string;
}

/** Charges metered usage at the rate card in force at the usage time and recognises the revenue. */
export function redeemUsage(pool: Pool, req: RedeemUsageRequest): Promise<LedgerResult> {
  requirePositiveAmount(req.quantity, 'quantity');
  requireKey(req.idempotencyKey);
  if (req.usageAt !== undefined && !(req.usageAt instanceof Date)) throw new BusinessError('VALIDATION_ERROR', 'usageAt must be a time');
  const usageAt = req.usageAt ?? new Date();
  const problem = usageTimeProblem(usageAt, new Date());
  if (problem) throw new BusinessError('VALIDATION_ERROR', `usageAt ${problem}`);
  const spec = { accounts: retireAccountRefs(req.memberId, 'redemption'), lock: [0], lotsOf: 0, reads: [rateInForceStatement(req.cooperativeId, req.primitive, usageAt)] };
  return runIdempotent(pool, req.cooperativeId, 'redeem-usage', req.idempotencyKey, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts: resolved, lots: spendable, reads, now }) => {
    const rate = toRateInForce(reads[0]!.rows);
    if (!rate) throw new BusinessError('NOT_FOUND', `No rate card was in force at ${usageAt.toISOString()}`);
    const amount = priceUsage(req.quantity, rate.rate);
    const accounts = toRetireAccounts(resolved);
    const lots = await spendable(amount);
    const allocations = allocateOrFail(lots, amount, now);
    const id = randomUUID();
    return writeTransaction(client, {
      id, cooperativeId, type: 'redemption', idempotencyKey, requestHash,
      metadata: {
        primitive: req.primitive,
        quantity: formatMicros(req.quantity),
        usageAt: usageAt.toISOString(),
        rateCardId: rate.rateCardId,
        rateCardVersion: rate.version,
        rate: formatMicros(rate.rate),
        infrastructureCostUsd: formatMicros(priceUsage(req.quantity, rate.infrastructureCost)),
      },
      entries: retirePostings(accounts, splitByCategory(allocations, categoryOf(lots))),
      lotChanges: consume(allocations),
      movements: allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
      events: [{ type: 'cloud.redeemed', aggregateId: req.memberId, payload: { transactionId: id, memberId: req.memberId, amount: formatMicros(amount), primitive: req.primitive, quantity: formatMicros(req.quantity), rateCardVersion: rate.version } }],
    });
  });
}
