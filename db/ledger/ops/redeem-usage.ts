import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError, type BusinessErrorCode } from '../../../domain/errors';
import type { LedgerTransaction } from '../../../domain/ledger-types';
import { usageTimeProblem } from '../../../domain/time-bounds';
import { formatMicros, priceUsage } from '../../../domain/money';
import { MAX_USAGE_BATCH, type Primitive } from '../../../domain/rate-card';
import { allocateOrFail, categoryOf, consume, firstSpendableLotsStatement, lotsReader, walletLotsByAccount, type WalletLot } from '../lots';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { replayOf, requestHash, requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { writeTransactions, type TransactionPlan } from '../write-transaction';
import { ratesInForceStatement, toRatesInForce, type RateInForce, type RateLookup } from '../../rate-cards';
import { findAccounts, lockAccountsStatement, type ResolvedAccount } from '../accounts';
import { findTransactions, idempotencyProbeStatement } from '../replay';
import { inTenantTransaction } from '../../transaction';
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

/** One record of a batch: a redemption of the batch's cooperative. */
export type UsageRecord = Omit<RedeemUsageRequest, 'cooperativeId'>;

/**
 * What the single route and the batch both check before any I/O: the usage time (default `now`) and
 * the hash the key is bound to (runIdempotent's for the single route: a key used on one replays on the other).
 */
function checkUsage(req: RedeemUsageRequest, now: Date): { usageAt: Date; hash: string } {
  requirePositiveAmount(req.quantity, 'quantity');
  requireKey(req.idempotencyKey);
  if (req.usageAt !== undefined && !(req.usageAt instanceof Date)) throw new BusinessError('VALIDATION_ERROR', 'usageAt must be a time');
  const usageAt = req.usageAt ?? now;
  const problem = usageTimeProblem(usageAt, now);
  if (problem) throw new BusinessError('VALIDATION_ERROR', `usageAt ${problem}`);
  return { usageAt, hash: requestHash('redeem-usage', req) };
}

/** The usage's price in CLOUD at the rate in force at its time; NOT_FOUND when no card covers that time. */
function priceAt(req: RedeemUsageRequest, usageAt: Date, rate: RateInForce | undefined): bigint {
  if (!rate) throw new BusinessError('NOT_FOUND', `No rate card was in force at ${usageAt.toISOString()}`);
  const amount = priceUsage(req.quantity, rate.rate);
  if (amount === 0n) throw new BusinessError('VALIDATION_ERROR', 'quantity is worth less than one millionth of a CLOUD at the rate in force');
  return amount;
}

/** The redemption's ledger transaction: Dr wallet / Cr CLOUD Issued, liability to revenue, the lots taken, and its event. */
function usagePlan(
  req: RedeemUsageRequest,
  p: { idempotencyKey: string; requestHash: string; usageAt: Date; rate: RateInForce; amount: bigint; accounts: ResolvedAccount[]; lots: WalletLot[]; now: Date },
): TransactionPlan {
  const allocations = allocateOrFail(p.lots, p.amount, p.now);
  const id = randomUUID();
  const { rate } = p;
  return {
    id, cooperativeId: req.cooperativeId, type: 'redemption', idempotencyKey: p.idempotencyKey, requestHash: p.requestHash,
    metadata: {
      primitive: req.primitive,
      quantity: formatMicros(req.quantity),
      usageAt: p.usageAt.toISOString(),
      rateCardId: rate.rateCardId,
      rateCardVersion: rate.version,
      rate: formatMicros(rate.rate),
      infrastructureCostUsd: formatMicros(priceUsage(req.quantity, rate.infrastructureCost)),
    },
    entries: retirePostings(toRetireAccounts(p.accounts), splitByCategory(allocations, categoryOf(p.lots))),
    lotChanges: consume(allocations),
    movements: allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
    events: [{ type: 'cloud.redeemed', aggregateId: req.memberId, payload: { transactionId: id, memberId: req.memberId, amount: formatMicros(p.amount), primitive: req.primitive, quantity: formatMicros(req.quantity), rateCardVersion: rate.version } }],
  };
}

/** Charges metered usage at the rate card in force at the usage time and recognises the revenue. */
export function redeemUsage(pool: Pool, req: RedeemUsageRequest): Promise<LedgerResult> {
  const { usageAt } = checkUsage(req, new Date());
  const spec = { accounts: retireAccountRefs(req.memberId, 'redemption'), lock: [0], lotsOf: 0, reads: [ratesInForceStatement(req.cooperativeId, [{ primitive: req.primitive, at: usageAt }])] };
  return runIdempotent(pool, req.cooperativeId, 'redeem-usage', req.idempotencyKey, req, spec, async ({ idempotencyKey, requestHash: hash, accounts, lots: spendable, reads, now, write }) => {
    const rate = toRatesInForce(reads[0]!.rows).get(0);
    const amount = priceAt(req, usageAt, rate);
    return write(usagePlan(req, { idempotencyKey, requestHash: hash, usageAt, rate: rate!, amount, accounts, lots: await spendable(amount), now }));
  });
}

/** What became of one record of a batch: its transaction (first written now, or replayed), or why it was refused. */
export type UsageOutcome = { transaction: LedgerTransaction; replayed: boolean } | { error: { code: BusinessErrorCode; message: string } };

type Pending = { at: number; req: RedeemUsageRequest; usageAt: Date; hash: string; amount?: bigint; wallet?: ResolvedAccount; rate?: RateInForce };

const refused = (err: unknown): UsageOutcome => {
  if (err instanceof BusinessError) return { error: { code: err.code, message: err.message } };
  throw err;
};

/**
 * Redeems up to MAX_USAGE_BATCH usage records of one cooperative in one database transaction of a few
 * statements, whatever their number: the keys probed and the rates read together, every wallet locked
 * (in id order, the lock the single route takes) and its first lots read together, then every
 * redemption written in one statement (db/ledger/write-transaction.ts) and committed. Each record is
 * what the single route does (same checks, pricing, lot order, plan and key binding) and is refused on
 * its own: a replayed key returns its first transaction, a key reused for another request, a member
 * without credits or an unknown member fails that record only. The database still enforces every
 * invariant at commit; a concurrent twin of a key makes the batch run again and replay it.
 */
export async function redeemUsageBatch(pool: Pool, cooperativeId: string, records: readonly UsageRecord[]): Promise<UsageOutcome[]> {
  if (records.length > MAX_USAGE_BATCH) throw new BusinessError('VALIDATION_ERROR', `a batch holds at most ${MAX_USAGE_BATCH} usage records`);
  const now = new Date();
  const outcomes: Array<UsageOutcome | undefined> = new Array(records.length);
  const checked: Pending[] = [];
  records.forEach((record, at) => {
    const req = { ...record, cooperativeId };
    try {
      checked.push({ at, req, ...checkUsage(req, now) });
    } catch (err) {
      outcomes[at] = refused(err);
    }
  });
  if (checked.length === 0) return outcomes as UsageOutcome[];
  // One rate lookup per distinct (primitive, time): records without a time share the batch's now.
  const lookupOf = new Map<string, number>();
  const lookups: RateLookup[] = [];
  const lookupIndex = checked.map((p) => {
    const k = `${p.req.primitive}|${p.usageAt.getTime()}`;
    if (!lookupOf.has(k)) lookupOf.set(k, lookups.push({ primitive: p.req.primitive, at: p.usageAt }) - 1);
    return lookupOf.get(k)!;
  });
  const members = [...new Set(checked.map((p) => p.req.memberId))];
  // The cooperative's accounts a redemption posts to, then each member's wallet (in memory once seen).
  const refs = [...retireAccountRefs(members[0]!, 'redemption').slice(1), ...members.map((m) => ({ member: m, account: 'wallet' as const }))];
  const opening = [
    idempotencyProbeStatement(cooperativeId, [...new Set(checked.map((p) => p.req.idempotencyKey))]),
    ratesInForceStatement(cooperativeId, lookups),
  ];

  return inTenantTransaction(
    pool,
    cooperativeId,
    async (client, [probe, rates]) => {
      const result = [...outcomes];
      const earlier = new Map((probe!.rows as Array<{ id: string; key: string; requestHash: string }>).map((r) => [r.key, r]));
      const rateOf = toRatesInForce(rates!.rows);
      const found = await findAccounts(client, cooperativeId, refs);
      const system = found.slice(0, 4);
      if (system.some((a) => a === undefined)) throw new BusinessError('NOT_FOUND', 'The cooperative has no open ledger');
      const walletOf = new Map(members.map((m, i) => [m, found[4 + i]]));

      // Keys first (a replay or a mismatch is decided before anything else, as on the single route), then member, rate and price.
      const firstOfKey = new Map<string, Pending>();
      const replays: Array<{ at: number; id: string }> = [];
      const sameAs: Array<{ at: number; first: Pending }> = [];
      const fresh: Pending[] = [];
      checked.forEach((p, i) => {
        try {
          const key = p.req.idempotencyKey;
          const twin = firstOfKey.get(key);
          if (twin) {
            replayOf({ requestHash: twin.hash }, p.hash, key);
            sameAs.push({ at: p.at, first: twin });
            return;
          }
          firstOfKey.set(key, p);
          const found = replayOf(earlier.get(key), p.hash, key);
          if (found) {
            replays.push({ at: p.at, id: found.id });
            return;
          }
          p.wallet = walletOf.get(p.req.memberId);
          if (!p.wallet) throw new BusinessError('NOT_FOUND', `Member ${p.req.memberId} not found in this cooperative`);
          p.rate = rateOf.get(lookupIndex[i]!);
          p.amount = priceAt(p.req, p.usageAt, p.rate);
          fresh.push(p);
        } catch (err) {
          result[p.at] = refused(err);
        }
      });

      const plans: Array<{ at: number; plan: TransactionPlan }> = [];
      if (fresh.length > 0) {
        // Every wallet written is locked before its lots are read: the lock and the read travel together.
        const walletIds = [...new Set(fresh.map((p) => p.wallet!.id))];
        const [, firstLots] = (await client.query([lockAccountsStatement(walletIds), firstSpendableLotsStatement(walletIds)].join(';\n'))) as unknown as Array<{ rows: never[] }>;
        const firstOf = walletLotsByAccount(firstLots!.rows);
        // What each wallet's records take together, in one pass over the records (not one per wallet).
        const wanted = new Map<string, bigint>();
        for (const p of fresh) wanted.set(p.wallet!.id, (wanted.get(p.wallet!.id) ?? 0n) + p.amount!);
        const spendable = new Map<string, WalletLot[]>();
        for (const id of walletIds) {
          spendable.set(id, (await lotsReader(client, id, firstOf.get(id) ?? [], now)(wanted.get(id)!)).map((l) => ({ ...l })));
        }
        for (const p of fresh) {
          try {
            const lots = spendable.get(p.wallet!.id)!;
            const plan = usagePlan(p.req, { idempotencyKey: p.req.idempotencyKey, requestHash: p.hash, usageAt: p.usageAt, rate: p.rate!, amount: p.amount!, accounts: [p.wallet!, ...(system as ResolvedAccount[])], lots, now });
            // The next record of the same wallet takes from what this one left.
            for (const m of plan.movements!) lots.find((l) => l.id === m.lotId)!.available -= m.amount;
            plans.push({ at: p.at, plan });
          } catch (err) {
            result[p.at] = refused(err);
          }
        }
      }
      const written = await writeTransactions(client, plans.map((p) => p.plan));
      plans.forEach((p, i) => (result[p.at] = { transaction: written[i]!, replayed: false }));
      if (replays.length > 0) {
        const found = await findTransactions(client, replays.map((r) => r.id));
        for (const r of replays) result[r.at] = { transaction: found.get(r.id)!, replayed: true };
      }
      // A key repeated within the batch gets its first record's outcome, replayed when that one was written.
      for (const { at, first } of sameAs) {
        const o = result[first.at]!;
        result[at] = 'error' in o ? o : { transaction: o.transaction, replayed: true };
      }
      return result as UsageOutcome[];
    },
    opening,
  );
}
