import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { LedgerError } from '../../../domain/ledger-error';
import { compareForConsumption } from '../../../domain/lots';
import { formatMicros } from '../../../domain/money';
import { lockAccounts, resolveAccounts } from '../accounts';
import { toJsonParam } from '../json';
import { allocateOrFail, readSpendableLots } from '../lots';
import { requestHash } from '../request-hash';
import { inTenantTransaction } from '../tenant-transaction';
import { requireKey, requirePositiveAmount } from '../validate';
import { writeTransaction, type LotChange } from '../write-transaction';
import { resolveRetireAccounts, retirePostings, type CategorySplit } from './retire';

export type HoldStatus = 'open' | 'finalized' | 'released' | 'expired';

export interface Hold {
  id: string;
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  status: HoldStatus;
  expiresAt: string;
  finalAmount: bigint | null;
  transactionId: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

interface HoldRow {
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

const HOLD_COLUMNS = 'id, cooperative_id, member_id, account_id, amount, status, expires_at, final_amount, transaction_id, created_at, resolved_at, request_hash';

function toHold(r: HoldRow): Hold {
  return {
    id: r.id, cooperativeId: r.cooperative_id, memberId: r.member_id, amount: r.amount, status: r.status, expiresAt: r.expires_at.toISOString(),
    finalAmount: r.final_amount, transactionId: r.transaction_id, createdAt: r.created_at.toISOString(), resolvedAt: r.resolved_at?.toISOString() ?? null,
  };
}

export interface ReserveHoldRequest {
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  expiresAt: Date;
  idempotencyKey: string;
  metadata?: Record<string, string>;
}

/** Reserves credits (available → reserved on the lots, in consumption order). Open holds cannot be spent. */
export function reserveHold(pool: Pool, req: ReserveHoldRequest): Promise<{ hold: Hold; replayed: boolean }> {
  requirePositiveAmount(req.amount);
  requireKey(req.idempotencyKey);
  const hash = requestHash('reserve-hold', req);
  return inTenantTransaction(pool, req.cooperativeId, async (client) => {
    const earlier = await client.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE cooperative_id = $1 AND idempotency_key = $2`, [req.cooperativeId, req.idempotencyKey]);
    if (earlier.rows[0]) {
      if (earlier.rows[0].request_hash !== hash) throw new LedgerError('IDEMPOTENCY_MISMATCH', `Idempotency key '${req.idempotencyKey}' was already used for a different request`);
      return { hold: toHold(earlier.rows[0]), replayed: true };
    }
    const now = new Date();
    if (req.expiresAt.getTime() <= now.getTime()) throw new LedgerError('VALIDATION_ERROR', 'expiresAt must be in the future');
    const [wallet] = await resolveAccounts(client, req.cooperativeId, [{ member: req.memberId, account: 'wallet' }]);
    await lockAccounts(client, [wallet!.id]);
    const allocations = allocateOrFail(await readSpendableLots(client, wallet!.id), req.amount, now);
    const id = randomUUID();
    const { rows } = await client.query<HoldRow>(
      `WITH h AS (
         INSERT INTO holds (id, cooperative_id, member_id, account_id, idempotency_key, request_hash, amount, status, expires_at, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9::jsonb) RETURNING ${HOLD_COLUMNS}
       ), hl AS (
         INSERT INTO hold_lots (hold_id, lot_id, cooperative_id, amount)
         SELECT $1, x.lot_id, $2, x.amount FROM jsonb_to_recordset($10::jsonb) AS x(lot_id uuid, amount bigint)
       ), l AS (
         UPDATE lots SET available = available - x.amount, reserved = reserved + x.amount
           FROM jsonb_to_recordset($10::jsonb) AS x(lot_id uuid, amount bigint) WHERE lots.id = x.lot_id
       )
       SELECT * FROM h`,
      [id, req.cooperativeId, req.memberId, wallet!.id, req.idempotencyKey, hash, req.amount, req.expiresAt, toJsonParam(req.metadata ?? {}),
        toJsonParam(allocations.map((a) => ({ lot_id: a.lotId, amount: a.amount })))],
    );
    return { hold: toHold(rows[0]!), replayed: false };
  });
}

export type HoldOutcome = { kind: 'finalize'; amount: bigint } | { kind: 'release' } | { kind: 'expire'; asOf: Date };

const STATUS_OF: Record<HoldOutcome['kind'], HoldStatus> = { finalize: 'finalized', release: 'released', expire: 'expired' };

/**
 * Resolves an open hold, at most once: finalize charges the actual amount (a redemption consuming the
 * reserved credits in consumption order) and releases the rest; release and expire return it all.
 * Asking again for the outcome a hold already has returns it unchanged; asking for another is CONFLICT.
 */
export function resolveHold(pool: Pool, cooperativeId: string, holdId: string, outcome: HoldOutcome): Promise<{ hold: Hold; replayed: boolean }> {
  if (outcome.kind === 'finalize' && (typeof outcome.amount !== 'bigint' || outcome.amount < 0n)) throw new LedgerError('VALIDATION_ERROR', 'amount must not be negative');
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const first = await client.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [holdId]);
    if (!first.rows[0]) throw new LedgerError('NOT_FOUND', 'Hold not found');
    await lockAccounts(client, [first.rows[0].account_id]);
    const { rows } = await client.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1 FOR UPDATE`, [holdId]);
    const hold = rows[0]!;
    const wanted = STATUS_OF[outcome.kind];
    if (hold.status !== 'open') {
      const same = hold.status === wanted && (outcome.kind !== 'finalize' || hold.final_amount === outcome.amount);
      if (same) return { hold: toHold(hold), replayed: true };
      throw new LedgerError('CONFLICT', `Hold is already ${hold.status}${hold.final_amount !== null ? ` (${formatMicros(hold.final_amount)} CLOUD)` : ''}`);
    }
    const now = outcome.kind === 'expire' ? outcome.asOf : new Date();
    if (outcome.kind === 'expire' && hold.expires_at > now) throw new LedgerError('CONFLICT', 'Hold has not expired yet');
    if (outcome.kind === 'finalize' && hold.expires_at <= now) throw new LedgerError('CONFLICT', 'Hold has expired');
    const charge = outcome.kind === 'finalize' ? outcome.amount : 0n;
    if (charge > hold.amount) throw new LedgerError('VALIDATION_ERROR', `Cannot finalize ${formatMicros(charge)} CLOUD on a hold of ${formatMicros(hold.amount)}`);

    const { changes, taken, split } = await splitHeldLots(client, holdId, charge);
    let transactionId: string | null = null;
    if (charge > 0n) {
      const accounts = await resolveRetireAccounts(client, cooperativeId, hold.member_id, 'redemption');
      const id = randomUUID();
      await writeTransaction(client, {
        id, cooperativeId, type: 'redemption', idempotencyKey: `hold:${holdId}:finalize`, requestHash: requestHash('finalize-hold', { holdId, amount: charge }),
        metadata: { holdId, held: formatMicros(hold.amount) },
        entries: retirePostings(accounts, split),
        lotChanges: changes,
        movements: taken,
        events: [{ type: 'cloud.redeemed', aggregateId: hold.member_id, payload: { transactionId: id, memberId: hold.member_id, amount: formatMicros(charge), holdId } }],
      });
      transactionId = id;
    } else {
      await client.query(
        `UPDATE lots SET available = available + x.av, reserved = reserved + x.rs, consumed = consumed + x.cs
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, av bigint, rs bigint, cs bigint) WHERE lots.id = x.id`,
        [toJsonParam(changes.map((c) => ({ id: c.lotId, av: c.available, rs: c.reserved, cs: c.consumed })))],
      );
    }
    const updated = await client.query<HoldRow>(
      `UPDATE holds SET status = $2, final_amount = $3, transaction_id = $4, resolved_at = $5 WHERE id = $1 RETURNING ${HOLD_COLUMNS}`,
      [holdId, wanted, outcome.kind === 'finalize' ? charge : null, transactionId, now],
    );
    return { hold: toHold(updated.rows[0]!), replayed: false };
  });
}

/** Lot deltas that consume `charge` from the held lots (in consumption order) and release the rest. */
async function splitHeldLots(client: PoolClient, holdId: string, charge: bigint): Promise<{ changes: LotChange[]; taken: Array<{ lotId: string; amount: bigint }>; split: CategorySplit }> {
  const { rows } = await client.query<{ lot_id: string; amount: bigint; priority: number; expires_at: Date | null; category: 'promotional' | 'paid'; created_at: Date }>(
    `SELECT hl.lot_id, hl.amount, l.priority, l.expires_at, l.category, l.created_at FROM hold_lots hl JOIN lots l ON l.id = hl.lot_id WHERE hl.hold_id = $1`,
    [holdId],
  );
  const held = rows
    .map((r) => ({ id: r.lot_id, priority: r.priority, expiresAt: r.expires_at, category: r.category, createdAt: r.created_at, available: r.amount }))
    .sort(compareForConsumption);
  let left = charge;
  const changes: LotChange[] = [];
  const taken: Array<{ lotId: string; amount: bigint }> = [];
  const split: CategorySplit = { paid: 0n, promotional: 0n };
  for (const lot of held) {
    const take = lot.available < left ? lot.available : left;
    left -= take;
    changes.push({ lotId: lot.id, available: lot.available - take, reserved: -lot.available, consumed: take });
    if (take > 0n) taken.push({ lotId: lot.id, amount: take });
    split[lot.category] += take;
  }
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
      if (err instanceof LedgerError && err.code === 'CONFLICT') return undefined; // resolved meanwhile
      throw err;
    });
    if (result && !result.replayed) expired.push(result.hold);
  }
  return expired;
}
