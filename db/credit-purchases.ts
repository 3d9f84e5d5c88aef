import type { Pool } from 'pg';
import type { CreditPurchase, PurchaseHistoryEntry, PurchaseStatus } from '../domain/credit-purchase';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { inSystemTransaction, inTenantTransaction } from './transaction';
import { isUuid } from '../domain/ids';

interface Row {
  id: string;
  cooperative_id: string;
  member_id: string;
  amount: bigint;
  amount_cents: bigint;
  pack: string | null;
  status: PurchaseStatus;
  payment_intent_id: string | null;
  client_secret: string | null;
  mint_transaction: string | null;
  refunded_cents: bigint;
  request_hash: string;
  created_at: Date;
  updated_at: Date;
  history: PurchaseHistoryEntry[];
}

const SELECT = `
  SELECT p.*, COALESCE((SELECT json_agg(json_build_object('status', e.status, 'step', e.step_key, 'detail', e.detail, 'at', e.at) ORDER BY e.id)
                          FROM credit_purchase_events e WHERE e.purchase_id = p.id), '[]') AS history
    FROM credit_purchases p`;

function toPurchase(r: Row): CreditPurchase {
  return {
    id: r.id, cooperativeId: r.cooperative_id, memberId: r.member_id, amount: r.amount, amountCents: r.amount_cents, pack: r.pack, status: r.status,
    paymentIntentId: r.payment_intent_id, clientSecret: r.client_secret, mintTransaction: r.mint_transaction, refundedCents: r.refunded_cents,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(), history: r.history,
  };
}

export interface NewPurchase {
  id: string;
  cooperativeId: string;
  memberId: string;
  amount: bigint;
  amountCents: bigint;
  pack?: string;
  idempotencyKey: string;
}

/** Records a purchase, idempotent by key (db/idempotency.ts): a repeat returns the first purchase; another request under the key is refused. */
export function createPurchase(pool: Pool, p: NewPurchase): Promise<{ purchase: CreditPurchase; created: boolean }> {
  const hash = requestHash('credit-purchase', { memberId: p.memberId, amount: p.amount, pack: p.pack ?? null });
  return inTenantTransaction(pool, p.cooperativeId, async (client) => {
    const read = async (where: string, value: string) => (await client.query<Row>(`${SELECT} WHERE ${where}`, [value])).rows[0];
    const { row, replayed } = await idempotent(
      p.idempotencyKey,
      hash,
      () => read('p.idempotency_key = $1', p.idempotencyKey),
      async () => {
        await client.query(
          `INSERT INTO credit_purchases (id, cooperative_id, member_id, amount, amount_cents, pack, idempotency_key, request_hash, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'creating_payment')`,
          [p.id, p.cooperativeId, p.memberId, p.amount, p.amountCents, p.pack ?? null, p.idempotencyKey, hash],
        );
        return (await read('p.id = $1', p.id))!;
      },
    );
    return { purchase: toPurchase(row), created: !replayed };
  });
}

export function findPurchase(pool: Pool, cooperativeId: string, id: string): Promise<CreditPurchase | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(`${SELECT} WHERE p.id = $1`, [id]);
    return rows[0] && toPurchase(rows[0]);
  });
}

/**
 * The purchase a Stripe event is about, across cooperatives (webhooks arrive without a tenant): by the
 * PaymentIntent id we recorded, or by the purchase id in the PaymentIntent's metadata, which covers an
 * event that arrives before the purchase has recorded its PaymentIntent. Metadata never names a
 * purchase whose recorded PaymentIntent is another (anyone can copy it into a PaymentIntent of theirs),
 * and the recorded id outranks it (`IS TRUE`: a null comparison would sort first).
 */
export async function findPurchaseForPayment(pool: Pool, ref: { paymentIntentId: string; purchaseId?: string }): Promise<{ id: string; cooperativeId: string } | undefined> {
  const byMetadata = ref.purchaseId && isUuid(ref.purchaseId) ? ref.purchaseId : null;
  const { rows } = await inSystemTransaction(pool, (client) =>
    client.query<{ id: string; cooperative_id: string }>(
      `SELECT id, cooperative_id FROM credit_purchases
        WHERE payment_intent_id = $1 OR (id = $2 AND (payment_intent_id IS NULL OR payment_intent_id = $1))
        ORDER BY (payment_intent_id = $1) IS TRUE DESC LIMIT 1`,
      [ref.paymentIntentId, byMetadata],
    ),
  );
  return rows[0] && { id: rows[0].id, cooperativeId: rows[0].cooperative_id };
}

export interface PurchaseStep {
  cooperativeId: string;
  purchaseId: string;
  /** Business key of the step: the same step is recorded once, however often it is retried. */
  step: string;
  status: PurchaseStatus;
  detail?: Record<string, unknown>;
  set?: { paymentIntentId?: string; clientSecret?: string; mintTransaction?: string; refundedCents?: bigint };
}

/** Moves a purchase to a status and appends the step to its history, once per step key. */
export function recordPurchaseStep(pool: Pool, s: PurchaseStep): Promise<void> {
  return inTenantTransaction(pool, s.cooperativeId, async (client) => {
    const event = await client.query(
      `INSERT INTO credit_purchase_events (purchase_id, cooperative_id, step_key, status, detail) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (purchase_id, step_key) DO NOTHING`,
      [s.purchaseId, s.cooperativeId, s.step, s.status, JSON.stringify(s.detail ?? {})],
    );
    if (event.rowCount === 0) return;
    await client.query(
      `UPDATE credit_purchases SET status = $2, updated_at = now(),
              payment_intent_id = COALESCE($3, payment_intent_id), client_secret = COALESCE($4, client_secret),
              mint_transaction = COALESCE($5, mint_transaction), refunded_cents = COALESCE($6, refunded_cents)
        WHERE id = $1`,
      [s.purchaseId, s.status, s.set?.paymentIntentId ?? null, s.set?.clientSecret ?? null, s.set?.mintTransaction ?? null, s.set?.refundedCents ?? null],
    );
  });
}

/** A cooperative's purchases (or one member's), newest first. */
export function listPurchases(
  pool: Pool,
  cooperativeId: string,
  filter: { memberId?: string; status?: PurchaseStatus; createdFrom?: string; createdBefore?: string; limit: number; cursor?: string },
): Promise<Page<CreditPurchase>> {
  const after = readCreationCursor(filter.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    // The position is read in an outer query: SELECT is the one shape of a purchase with its history.
    const { rows } = await client.query<Row & { position: string }>(
      `SELECT l.*, ${creationPosition.micros('l.created_at')} AS position FROM (${SELECT}
        WHERE ($1::uuid IS NULL OR p.member_id = $1) AND ($2::text IS NULL OR p.status = $2)
          AND ($3::timestamptz IS NULL OR p.created_at >= $3) AND ($4::timestamptz IS NULL OR p.created_at < $4)
          AND ${creationPosition.after('p.created_at', 'p.id', '$5', '$6')}
        ORDER BY p.created_at DESC, p.id DESC LIMIT $7) l
        ORDER BY l.created_at DESC, l.id DESC`,
      [filter.memberId ?? null, filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, after?.micros ?? null, after?.id ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.position, r.id], toPurchase);
  });
}
