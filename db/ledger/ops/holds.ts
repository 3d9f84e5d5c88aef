import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { inline } from '../../inline';
import { BusinessError } from '../../../domain/errors';
import type { Hold, HoldStatus } from '../../../domain/hold';
import { compareForConsumption, takeInOrder, type Allocation, type LotCategory } from '../../../domain/lots';
import { formatMicros } from '../../../domain/money';
import { lockAccountsStatement, resolveAccounts, resolveAccountsCached } from '../accounts';
import { toJsonParam } from '../../json';
import { allocateOrFail, firstSpendableLotsStatement, lotsReader, toWalletLots } from '../lots';
import { replayOf, requestHash } from '../../idempotency';
import { inTenantTransaction } from '../../transaction';
import { requireKey } from '../../idempotency';
import { requirePositiveAmount } from '../validate';
import { lotChangesParam, writeTransaction, type LotChange } from '../write-transaction';
import { recordEventStatement } from '../../outbox';
import { retireAccountRefs, retirePostings, toRetireAccounts, type CategorySplit } from './retire';
import { isUuid } from '../../../domain/ids';

export interface HoldRow {
  id: string;
  cooperative_id: string;
  member_id: string;
  account_id: string;
  amount: bigint;
  status: HoldStatus;
  expires_at: Date;
  final_amount: bigint | null;
  transaction_id: string | null;
  created_at: Date;
  resolved_at: Date | null;
  request_hash: string;
}

export const HOLD_COLUMNS = 'id, cooperative_id, member_id, account_id, amount, status, expires_at, final_amount, transaction_id, created_at, resolved_at, request_hash';

export function toHold(r: HoldRow): Hold {
  return {
    id: r.id, cooperativeId: r.cooperative_id, memberId: r.member_id, amount: r.amount, status: r.status, expiresAt: r.expires_at.toISOString(),
    finalAmount: r.final_amount, transactionId: r.transaction_id, createdAt: r.created_at.toISOString(), resolvedAt: r.resolved_at?.toISOString() ?? null,
  };
}

export interface ReserveHoldRequest {
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  /** Lifetime of the hold. Part of the request (a retry sends the same); the expiry time is derived once. */
  ttlSeconds: number;
  idempotencyKey: string;
  metadata?: Record<string, string>;
}

/**
 * Which wallet a hold draws on never changes, so each process remembers it (one lookup fewer), up to a
 * bound. Keyed by cooperative too: a hold id named under another cooperative's path must miss, and be
 * looked up under that cooperative's row-level security, before any lock is taken.
 */
const holdWallets = new Map<string, { accountId: string; memberId: string }>();
const HOLD_WALLETS_MAX = 100_000;
function rememberHoldWallet(cooperativeId: string, holdId: string, wallet: { accountId: string; memberId: string }): void {
  if (holdWallets.size >= HOLD_WALLETS_MAX) holdWallets.clear();
  holdWallets.set(`${cooperativeId}:${holdId}`, wallet);
}

/** Reserves credits (available → reserved on the lots, in consumption order). Open holds cannot be spent. */
export async function reserveHold(pool: Pool, req: ReserveHoldRequest): Promise<{ hold: Hold; replayed: boolean }> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const hash = requestHash('reserve-hold', req);
  const [wallet] = await resolveAccountsCached(pool, req.cooperativeId, [{ member: req.memberId, account: 'wallet' }]);
  const opening = [
    lockAccountsStatement([wallet!.id]),
    inline(`SELECT ${HOLD_COLUMNS} FROM holds WHERE cooperative_id = $1 AND idempotency_key = $2`, [req.cooperativeId, req.idempotencyKey]),
    firstSpendableLotsStatement([wallet!.id]),
  ];
  return inTenantTransaction(
    pool,
    req.cooperativeId,
    async (client, [, earlier, firstLots]) => {
      const found = earlier!.rows[0] as HoldRow | undefined;
      if (replayOf(found && { requestHash: found.request_hash }, hash, req.idempotencyKey)) return { hold: toHold(found!), replayed: true };
      const now = new Date();
      if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds <= 0) throw new BusinessError('VALIDATION_ERROR', 'ttlSeconds must be a positive whole number');
      const expiresAt = new Date(now.getTime() + req.ttlSeconds * 1000);
      const lots = await lotsReader(client, wallet!.id, toWalletLots(firstLots!.rows), now)(req.amount);
      const allocations = allocateOrFail(lots, req.amount, now);
      const id = randomUUID();
      const { rows } = await client.query<HoldRow>({
        name: 'ledger-reserve-hold',
        text: `WITH h AS (
           INSERT INTO holds (id, cooperative_id, member_id, account_id, idempotency_key, request_hash, amount, status, expires_at, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9::jsonb) RETURNING ${HOLD_COLUMNS}
         ), hl AS (
           INSERT INTO hold_lots (hold_id, lot_id, cooperative_id, amount)
           SELECT $1, x.lot_id, $2, x.amount FROM jsonb_to_recordset($10::jsonb) AS x(lot_id uuid, amount bigint)
         ), l AS (
           SELECT adjust_lots($12::jsonb)
         ), ob AS (
           INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
           VALUES ($2, 'cloud.held', $3::text, jsonb_build_object('holdId', $1::text, 'memberId', $3::text, 'amount', $11::text, 'expiresAt', $8::timestamptz))
         )
         SELECT h.* FROM h, l`,
        values: [id, req.cooperativeId, req.memberId, wallet!.id, req.idempotencyKey, hash, req.amount, expiresAt, toJsonParam(req.metadata ?? {}),
          toJsonParam(allocations.map((a) => ({ lot_id: a.lotId, amount: a.amount }))), formatMicros(req.amount),
          lotChangesParam(allocations.map((a) => ({ lotId: a.lotId, available: -a.amount, reserved: a.amount, consumed: 0n })))],
      });
      rememberHoldWallet(req.cooperativeId, id, { accountId: wallet!.id, memberId: req.memberId });
      return { hold: toHold(rows[0]!), replayed: false };
    },
    opening,
  );
}

export type HoldOutcome = { kind: 'finalize'; amount: bigint } | { kind: 'release' } | { kind: 'expire'; asOf: Date };

const STATUS_OF: Record<HoldOutcome['kind'], HoldStatus> = { finalize: 'finalized', release: 'released', expire: 'expired' };

async function holdWallet(pool: Pool, cooperativeId: string, holdId: string): Promise<{ accountId: string; memberId: string }> {
  const remembered = holdWallets.get(`${cooperativeId}:${holdId}`);
  if (remembered) return remembered;
  const found = await inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ account_id: string; member_id: string }>('SELECT account_id, member_id FROM holds WHERE id = $1', [holdId]);
    return rows[0];
  });
  if (!found) throw new BusinessError('NOT_FOUND', 'Hold not found');
  const wallet = { accountId: found.account_id, memberId: found.member_id };
  rememberHoldWallet(cooperativeId, holdId, wallet);
  return wallet;
}

/**
 * Resolves an open hold, at most once: finalize charges the actual amount (a redemption consuming the
 * reserved credits in consumption order) and releases the rest; release and expire return it all.
 * Asking again for the outcome a hold already has returns it unchanged; asking for another is CONFLICT.
 * Every change to a hold happens under its wallet's lock, so the hold read in the opening batch is current.
 */
export async function resolveHold(pool: Pool, cooperativeId: string, holdId: string, outcome: HoldOutcome): Promise<{ hold: Hold; replayed: boolean }> {
  if (outcome.kind === 'finalize' && (typeof outcome.amount !== 'bigint' || outcome.amount < 0n)) throw new BusinessError('VALIDATION_ERROR', 'amount must not be negative');
  if (!isUuid(holdId)) throw new BusinessError('VALIDATION_ERROR', 'holdId must be a UUID');
  const wallet = await holdWallet(pool, cooperativeId, holdId);
  const opening = [
    lockAccountsStatement([wallet.accountId]),
    inline(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [holdId]),
    inline('SELECT hl.lot_id, hl.amount, l.priority, l.expires_at, l.category, l.created_at FROM hold_lots hl JOIN lots l ON l.id = hl.lot_id WHERE hl.hold_id = $1', [holdId]),
  ];
  return inTenantTransaction(
    pool,
    cooperativeId,
    async (client, [, holdRows, heldRows], defer) => {
      const hold = holdRows!.rows[0] as HoldRow | undefined;
      if (!hold) throw new BusinessError('NOT_FOUND', 'Hold not found');
      const wanted = STATUS_OF[outcome.kind];
      if (hold.status !== 'open') {
        const same = hold.status === wanted && (outcome.kind !== 'finalize' || hold.final_amount === outcome.amount);
        if (same) return { hold: toHold(hold), replayed: true };
        throw new BusinessError('CONFLICT', `Hold is already ${hold.status}${hold.final_amount !== null ? ` (${formatMicros(hold.final_amount)} CLOUD)` : ''}`);
      }
      const now = outcome.kind === 'expire' ? outcome.asOf : new Date();
      if (outcome.kind === 'expire' && hold.expires_at > now) throw new BusinessError('CONFLICT', 'Hold has not expired yet');
      if (outcome.kind === 'finalize' && hold.expires_at <= now) throw new BusinessError('CONFLICT', 'Hold has expired');
      const charge = outcome.kind === 'finalize' ? outcome.amount : 0n;
      if (charge > hold.amount) throw new BusinessError('VALIDATION_ERROR', `Cannot finalize ${formatMicros(charge)} CLOUD on a hold of ${formatMicros(hold.amount)}`);

      const { changes, taken, split } = splitHeldLots(heldRows!.rows as HeldLotRow[], charge);
      let transactionId: string | null = null;
      if (charge > 0n) {
        // Same client: a second connection from inside a transaction could starve the pool.
        const accounts = toRetireAccounts(await resolveAccounts(client, cooperativeId, retireAccountRefs(hold.member_id, 'redemption')));
        transactionId = randomUUID();
        await writeTransaction(client, {
          id: transactionId, cooperativeId, type: 'redemption', idempotencyKey: `hold:${holdId}:finalize`, requestHash: requestHash('finalize-hold', { holdId, amount: charge }),
          metadata: { holdId, held: formatMicros(hold.amount) },
          entries: retirePostings(accounts, split),
          lotChanges: changes,
          movements: taken,
          events: [{ type: 'cloud.redeemed', aggregateId: hold.member_id, payload: { transactionId, memberId: hold.member_id, amount: formatMicros(charge), holdId } }],
        });
      } else {
        defer(inline('SELECT adjust_lots($1::jsonb)', [lotChangesParam(changes)]));
      }
      // What the hold gives back to the wallet: all of it, or what a finalize did not charge.
      const released = hold.amount - charge;
      if (released > 0n) {
        defer(recordEventStatement(cooperativeId, {
          type: 'cloud.released', aggregateId: hold.member_id,
          payload: { holdId, memberId: hold.member_id, amount: formatMicros(released), outcome: wanted },
        }));
      }
      defer(
        inline('UPDATE holds SET status = $1, final_amount = $2, transaction_id = $3, resolved_at = $4 WHERE id = $5', [
          wanted, outcome.kind === 'finalize' ? charge : null, transactionId, now, holdId,
        ]),
      );
      const resolved = { ...toHold(hold), status: wanted, finalAmount: outcome.kind === 'finalize' ? charge : null, transactionId, resolvedAt: now.toISOString() };
      return { hold: resolved, replayed: false };
    },
    opening,
  );
}

interface HeldLotRow {
  lot_id: string;
  amount: bigint;
  priority: number;
  expires_at: Date | null;
  category: LotCategory;
  created_at: Date;
}

/** Lot deltas that consume `charge` from the held lots (in consumption order) and release the rest. */
function splitHeldLots(rows: HeldLotRow[], charge: bigint): { changes: LotChange[]; taken: Allocation[]; split: CategorySplit } {
  const held = rows
    .map((r) => ({ id: r.lot_id, priority: r.priority, expiresAt: r.expires_at, category: r.category, createdAt: r.created_at, available: r.amount }))
    .sort(compareForConsumption);
  const { allocations: taken } = takeInOrder(held, charge);
  const takenFrom = new Map(taken.map((a) => [a.lotId, a.amount]));
  const split: CategorySplit = { paid: 0n, promotional: 0n };
  const changes = held.map((lot) => {
    const take = takenFrom.get(lot.id) ?? 0n;
    split[lot.category] += take;
    return { lotId: lot.id, available: lot.available - take, reserved: -lot.available, consumed: take };
  });
  return { changes, taken, split };
}

/** Expires every open hold past its TTL (the scheduled job's work). */
export async function expireDueHolds(pool: Pool, cooperativeId: string, asOf: Date): Promise<Hold[]> {
  const due = await inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM holds WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at`, [asOf]);
    return rows.map((r) => r.id);
  });
  const expired: Hold[] = [];
  for (const id of due) {
    const result = await resolveHold(pool, cooperativeId, id, { kind: 'expire', asOf }).catch((err: unknown) => {
      if (err instanceof BusinessError && err.code === 'CONFLICT') return undefined; // resolved meanwhile
      throw err;
    });
    if (result && !result.replayed) expired.push(result.hold);
  }
  return expired;
}
