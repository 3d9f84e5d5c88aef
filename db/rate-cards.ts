import { prepared } from './prepared';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BusinessError } from '../domain/errors';
import { PRIMITIVES, V1_RATES, type Primitive, type Rate } from '../domain/rate-card';
import { readVersionCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { inTenantTransaction } from './transaction';
import { toJsonParam } from './json';
import { effectiveFromProblem } from '../domain/time-bounds';

export interface RateCard {
  id: string;
  cooperativeId: string;
  version: number;
  effectiveFrom: string;
  createdAt: string;
  /** Why a card that took effect before it was created reprices the past (an operator's word). */
  retroactiveReason: string | null;
  rates: Record<Primitive, Rate>;
}

export interface RateInForce extends Rate {
  rateCardId: string;
  version: number;
}

/** What a usage is priced by: the primitive and the usage time. */
export interface RateLookup {
  primitive: Primitive;
  at: Date;
}

/**
 * The one pricing rule for usage, as a statement for an opening batch: for each lookup, the rate of its
 * primitive on the newest card effective at its time. Rows carry the lookup's index `n`; a lookup no
 * card covers has no row. One statement for a single redemption or a batch of a thousand.
 */
const ratesInForce = prepared(
  'rates_in_force',
  `SELECT q.n, c.id, c.version, c.rate, c.infrastructure_cost FROM jsonb_to_recordset($1::jsonb) AS q(n int, p text, at timestamptz)
    CROSS JOIN LATERAL (SELECT c.id, c.version, r.rate, r.infrastructure_cost FROM rate_cards c
                          JOIN rate_card_rates r ON r.rate_card_id = c.id AND r.primitive = q.p
                         WHERE c.cooperative_id = $2::uuid AND c.effective_from <= q.at ORDER BY c.effective_from DESC LIMIT 1) c`,
);
export function ratesInForceStatement(cooperativeId: string, lookups: readonly RateLookup[]): string {
  return ratesInForce(JSON.stringify(lookups.map((l, n) => ({ n, p: l.primitive, at: l.at.toISOString() }))), cooperativeId);
}

/** The rows of ratesInForceStatement by lookup index. */
export function toRatesInForce(rows: Array<{ n: number; id: string; version: number; rate: bigint; infrastructure_cost: bigint }>): Map<number, RateInForce> {
  return new Map(rows.map((r) => [r.n, { rateCardId: r.id, version: r.version, rate: r.rate, infrastructureCost: r.infrastructure_cost }]));
}

const SELECT_CARD = `
  SELECT c.id, c.cooperative_id, c.version, c.effective_from, c.created_at, c.request_hash, c.retroactive_reason,
         json_object_agg(r.primitive, json_build_object('rate', r.rate::text, 'infrastructureCost', r.infrastructure_cost::text)) AS rates
    FROM rate_cards c JOIN rate_card_rates r ON r.rate_card_id = c.id`;

interface CardRow {
  id: string;
  cooperative_id: string;
  version: number;
  effective_from: Date;
  created_at: Date;
  request_hash: string;
  retroactive_reason: string | null;
  rates: Record<Primitive, { rate: string; infrastructureCost: string }>;
}

function toCard(row: CardRow): RateCard {
  const rates = Object.fromEntries(
    Object.entries(row.rates).map(([p, r]) => [p, { rate: BigInt(r.rate), infrastructureCost: BigInt(r.infrastructureCost) }]),
  ) as Record<Primitive, Rate>;
  return { id: row.id, cooperativeId: row.cooperative_id, version: row.version, effectiveFrom: row.effective_from.toISOString(), createdAt: row.created_at.toISOString(), retroactiveReason: row.retroactive_reason, rates };
}

/** The card in force at `at` (default now). */
export function currentRateCard(pool: Pool, cooperativeId: string, at = new Date()): Promise<RateCard | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<CardRow>(`${SELECT_CARD} WHERE c.effective_from <= $1 GROUP BY c.id ORDER BY c.effective_from DESC LIMIT 1`, [at]);
    return rows[0] && toCard(rows[0]);
  });
}

/** A cooperative's rate cards, newest version first: its price history. */
export function listRateCards(pool: Pool, cooperativeId: string, filter: { effectiveFrom?: string; effectiveBefore?: string; limit: number; cursor?: string }): Promise<Page<RateCard>> {
  const after = readVersionCursor(filter.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<CardRow>(
      `${SELECT_CARD} WHERE ($1::timestamptz IS NULL OR c.effective_from >= $1) AND ($2::timestamptz IS NULL OR c.effective_from < $2) AND ($3::int IS NULL OR c.version < $3)
        GROUP BY c.id ORDER BY c.version DESC LIMIT $4`,
      [filter.effectiveFrom ?? null, filter.effectiveBefore ?? null, after ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.version], toCard);
  });
}

export interface CreateRateCardRequest {
  cooperativeId: string;
  effectiveFrom: Date;
  rates: Record<Primitive, Rate>;
  /** Why a card that takes effect in the past reprices it (an operator's word); required for one. */
  retroactiveReason?: string;
  idempotencyKey: string;
}

/**
 * Adds the next version of the cooperative's rate card (versions only grow; cards are never edited).
 * Usage is priced by the card effective at its usage time. Idempotent by key.
 */
export function createRateCard(pool: Pool, req: CreateRateCardRequest): Promise<{ rateCard: RateCard; replayed: boolean }> {
  return inTenantTransaction(pool, req.cooperativeId, (client) => insertRateCard(client, req));
}

/** createRateCard inside a transaction the caller holds (provisioning opens the ledger and seeds the card together). */
export async function insertRateCard(client: PoolClient, req: CreateRateCardRequest): Promise<{ rateCard: RateCard; replayed: boolean }> {
  const hash = requestHash('create-rate-card', req);
  const read = async (where: string, value: string) => (await client.query<CardRow>(`${SELECT_CARD} WHERE ${where} GROUP BY c.id`, [value])).rows[0];
  const { row, replayed } = await idempotent(
    req.idempotencyKey,
    hash,
    () => read('c.idempotency_key = $1', req.idempotencyKey),
    async () => {
      const problem = effectiveFromProblem(req.effectiveFrom, new Date(), req.retroactiveReason);
      if (problem) throw new BusinessError('VALIDATION_ERROR', `effectiveFrom ${problem}`);
      for (const p of PRIMITIVES) {
        const r = req.rates[p];
        if (!r || r.rate <= 0n || r.infrastructureCost < 0n) throw new BusinessError('VALIDATION_ERROR', `a positive rate is required for ${p}`);
      }
      // Versions are taken under a per-cooperative advisory lock so concurrent creations do not collide.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('rate-card:' || $1))`, [req.cooperativeId]);
      const id = randomUUID();
      await client.query(
        `WITH c AS (
           INSERT INTO rate_cards (id, cooperative_id, version, effective_from, idempotency_key, request_hash, retroactive_reason)
           SELECT $1, $2, COALESCE(max(version), 0) + 1, $3, $4, $5, $7 FROM rate_cards WHERE cooperative_id = $2
           RETURNING id, version
         ), r AS (
           INSERT INTO rate_card_rates (rate_card_id, cooperative_id, primitive, rate, infrastructure_cost)
           SELECT $1, $2, x.primitive, x.rate, x.cost FROM jsonb_to_recordset($6::jsonb) AS x(primitive text, rate bigint, cost bigint)
         )
         INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
         SELECT $2, 'rate_card.created', $1::text, jsonb_build_object('rateCardId', $1::text, 'version', c.version, 'effectiveFrom', $3::timestamptz, 'retroactiveReason', $7::text) FROM c`,
        [id, req.cooperativeId, req.effectiveFrom, req.idempotencyKey, hash, toJsonParam(PRIMITIVES.map((p) => ({ primitive: p, rate: req.rates[p].rate, cost: req.rates[p].infrastructureCost }))), req.retroactiveReason ?? null],
      );
      return (await read('c.id = $1', id))!;
    },
  );
  return { rateCard: toCard(row), replayed };
}

/** Every cooperative starts with the V1 card, in force from the beginning of time. */
export function seedV1RateCard(client: PoolClient, cooperativeId: string) {
  return insertRateCard(client, { cooperativeId, effectiveFrom: new Date(0), rates: V1_RATES, retroactiveReason: "the cooperative's first rate card, in force from the start", idempotencyKey: 'seed:rate-card:v1' });
}
