import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { RuleAction, RuleStatus } from '../domain/governance/revenue-rule';
import type { RevenueRule, RuleShare } from '../domain/governance/revenue-rule-record';
import { readVersionCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { recordEvent } from './outbox';
import { inSystemTransaction, inTenantTransaction } from './transaction';

interface Row {
  id: string;
  cooperative_id: string;
  version: number;
  name: string;
  shares: RuleShare[];
  status: RuleStatus;
  proposer: string;
  approver: string | null;
  cooldown_ends_at: Date | null;
  activated_at: Date | null;
  request_hash: string;
  history: RevenueRule['history'];
}

const SELECT = `
  SELECT r.*, COALESCE((SELECT json_agg(json_build_object('action', e.action, 'from', e.from_status, 'to', e.to_status, 'actor', e.actor, 'reason', e.reason, 'at', e.at) ORDER BY e.id)
                          FROM revenue_rule_events e WHERE e.rule_id = r.id), '[]') AS history
    FROM revenue_rules r`;

const toRule = (r: Row): RevenueRule => ({
  id: r.id, cooperativeId: r.cooperative_id, version: r.version, name: r.name, shares: r.shares, status: r.status, proposer: r.proposer, approver: r.approver,
  cooldownEndsAt: r.cooldown_ends_at?.toISOString() ?? null, activatedAt: r.activated_at?.toISOString() ?? null, history: r.history,
});

/** A new draft rule with the cooperative's next version; idempotent by key. */
export function createRule(pool: Pool, input: { id: string; cooperativeId: string; name: string; shares: RuleShare[]; proposer: string; idempotencyKey: string }): Promise<{ rule: RevenueRule; created: boolean }> {
  const hash = requestHash('revenue-rule', { name: input.name, shares: input.shares, proposer: input.proposer });
  return inTenantTransaction(pool, input.cooperativeId, async (client) => {
    const named = input.shares.flatMap((s) => (s.memberId === undefined ? [] : [s.memberId]));
    const ids = [...new Set(named)];
    if (ids.length !== named.length) throw new BusinessError('VALIDATION_ERROR', 'each share must name a different member');
    const found = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE id = ANY($1::uuid[])', [ids]);
    if (found.rows[0]!.n !== ids.length) throw new BusinessError('VALIDATION_ERROR', 'every share must name a member of this cooperative');
    const read = async (where: string, value: string) => (await client.query<Row>(`${SELECT} WHERE ${where}`, [value])).rows[0];
    const { row, replayed } = await idempotent(
      input.idempotencyKey,
      hash,
      () => read('r.idempotency_key = $1', input.idempotencyKey),
      async () => {
        // Versions are taken under a per-cooperative lock so concurrent creations do not collide.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('revenue-rule-version:' || $1))`, [input.cooperativeId]);
        await client.query(
          `INSERT INTO revenue_rules (id, cooperative_id, version, name, shares, status, proposer, idempotency_key, request_hash)
           SELECT $1, $2, COALESCE(max(version), 0) + 1, $3, $4, 'draft', $5, $6, $7 FROM revenue_rules WHERE cooperative_id = $2`,
          [input.id, input.cooperativeId, input.name, JSON.stringify(input.shares), input.proposer, input.idempotencyKey, hash],
        );
        return (await read('r.id = $1', input.id))!;
      },
    );
    return { rule: toRule(row), created: !replayed };
  });
}

export function findRule(pool: Pool, cooperativeId: string, id: string): Promise<RevenueRule | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(`${SELECT} WHERE r.id = $1`, [id]);
    return rows[0] && toRule(rows[0]);
  });
}

/** The cooperative a rule belongs to (operators act across cooperatives). */
export async function ruleCooperative(pool: Pool, id: string): Promise<string | undefined> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<{ cooperative_id: string }>('SELECT cooperative_id FROM revenue_rules WHERE id = $1', [id]));
  return rows[0]?.cooperative_id;
}

export function activeRule(pool: Pool, cooperativeId: string): Promise<RevenueRule | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(`${SELECT} WHERE r.cooperative_id = $1 AND r.status = 'active'`, [cooperativeId]);
    return rows[0] && toRule(rows[0]);
  });
}

export interface RuleTransition {
  cooperativeId: string;
  ruleId: string;
  /** Business key of the step (workflow-assigned): each is applied once. */
  step: string;
  action: RuleAction;
  from: RuleStatus;
  to: RuleStatus;
  actor?: string;
  reason?: string;
  cooldownEndsAt?: string;
}

/**
 * Applies one audited transition, once per step. Activation first supersedes the cooperative's active
 * rule, under a per-cooperative lock; the partial unique index refuses a second active rule regardless.
 */
export function applyRuleTransition(pool: Pool, t: RuleTransition): Promise<void> {
  return inTenantTransaction(pool, t.cooperativeId, async (client) => {
    const recorded = await client.query(
      `INSERT INTO revenue_rule_events (rule_id, cooperative_id, step_key, action, from_status, to_status, actor, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (rule_id, step_key) DO NOTHING`,
      [t.ruleId, t.cooperativeId, t.step, t.action, t.from, t.to, t.actor ?? null, t.reason ?? null],
    );
    if (recorded.rowCount === 0) return;
    let superseded: { rows: Array<{ id: string }> } = { rows: [] };
    if (t.to === 'active') {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('revenue-rule-active:' || $1))`, [t.cooperativeId]);
      superseded = await client.query<{ id: string }>(`UPDATE revenue_rules SET status = 'superseded' WHERE cooperative_id = $1 AND status = 'active' AND id <> $2 RETURNING id`, [t.cooperativeId, t.ruleId]);
      for (const old of superseded.rows) {
        await client.query(
          `INSERT INTO revenue_rule_events (rule_id, cooperative_id, step_key, action, from_status, to_status, actor, reason) VALUES ($1, $2, $3, 'supersede', 'active', 'superseded', $4, $5)`,
          [old.id, t.cooperativeId, `superseded-by:${t.ruleId}`, t.actor ?? null, `superseded by rule ${t.ruleId}`],
        );
      }
    }
    const moved = await client.query(
      `UPDATE revenue_rules SET status = $3, approver = COALESCE($4, approver), cooldown_ends_at = COALESCE($5, cooldown_ends_at),
              activated_at = CASE WHEN $3 = 'active' THEN now() ELSE activated_at END
        WHERE id = $1 AND cooperative_id = $2 AND status = $6`,
      [t.ruleId, t.cooperativeId, t.to, t.action === 'approve' ? (t.actor ?? null) : null, t.cooldownEndsAt ?? null, t.from],
    );
    // The rule is no longer where this step starts from: refuse (and roll back its event) rather than overwrite.
    if (moved.rowCount === 0) throw new BusinessError('CONFLICT', `revenue rule ${t.ruleId} is not ${t.from}`);
    if (t.to === 'active') {
      await recordEvent(client, t.cooperativeId, {
        type: 'revenue_rule.activated', aggregateId: t.ruleId,
        payload: { ruleId: t.ruleId, supersededRuleIds: superseded.rows.map((r) => r.id), actor: t.actor ?? null, action: t.action },
      });
    }
  });
}

/** A cooperative's revenue rules, newest version first. */
export function listRules(
  pool: Pool,
  cooperativeId: string,
  filter: { status?: RuleStatus; createdFrom?: string; createdBefore?: string; limit: number; cursor?: string },
): Promise<Page<RevenueRule>> {
  const after = readVersionCursor(filter.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<Row>(
      `${SELECT} WHERE ($1::text IS NULL OR r.status = $1) AND ($2::timestamptz IS NULL OR r.created_at >= $2) AND ($3::timestamptz IS NULL OR r.created_at < $3)
          AND ($4::int IS NULL OR r.version < $4)
        ORDER BY r.version DESC LIMIT $5`,
      [filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, after ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.version], toRule);
  });
}
