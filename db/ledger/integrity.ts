import type { Pool, PoolClient } from 'pg';
import { COOPERATIVE_ACCOUNTS, MEMBER_ACCOUNTS } from '../../domain/chart-of-accounts';
import { cooperativeIds } from '../cooperatives';
import { inSystemTransaction, inTenantSnapshot } from '../transaction';

export interface IntegrityFinding {
  check: string;
  cooperativeId: string;
  subject: string;
  detail: string;
}

export interface IntegrityReport {
  checkedAt: string;
  checks: string[];
  findings: IntegrityFinding[];
  clean: boolean;
}

/**
 * Every ledger invariant, as one query each returning the rows that break it: (cooperative, subject,
 * detail). `$1` is the cooperative, `$2` the instant checked; each check runs in that cooperative's own scope.
 */
const CHECKS = {
  account_balance_equals_entries: `
    SELECT a.cooperative_id, a.id::text, format('balance %s, entries say %s', b.total, a.normal_sign * COALESCE(e.total, 0))
      FROM accounts a
      JOIN (SELECT account_id, sum(balance) AS total FROM account_balances GROUP BY account_id) b ON b.account_id = a.id
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM entries GROUP BY account_id) e ON e.account_id = a.id
     WHERE b.total <> a.normal_sign * COALESCE(e.total, 0) AND ($1::uuid IS NULL OR a.cooperative_id = $1)`,
  wallet_equals_lots: `
    SELECT a.cooperative_id, a.id::text, format('wallet %s, lots available+reserved %s', b.total, COALESCE(l.total, 0))
      FROM accounts a
      JOIN (SELECT account_id, sum(balance) AS total FROM account_balances GROUP BY account_id) b ON b.account_id = a.id
      LEFT JOIN (SELECT account_id, sum(available + reserved) AS total FROM lots GROUP BY account_id) l ON l.account_id = a.id
     WHERE a.code = '${MEMBER_ACCOUNTS.wallet.code}' AND b.total <> COALESCE(l.total, 0) AND ($1::uuid IS NULL OR a.cooperative_id = $1)`,
  entries_balance_per_currency: `
    SELECT t.cooperative_id, t.id::text, format('%s entries sum to %s', e.currency, e.total)
      FROM transactions t JOIN (SELECT transaction_id, currency, sum(amount) AS total FROM entries GROUP BY 1, 2) e ON e.transaction_id = t.id
     WHERE e.total <> 0 AND ($1::uuid IS NULL OR t.cooperative_id = $1)
    UNION ALL
    SELECT t.cooperative_id, t.id::text, 'transaction has no entries'
      FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id) AND ($1::uuid IS NULL OR t.cooperative_id = $1)`,
  no_negative_wallet: `
    SELECT b.cooperative_id, b.account_id::text, format('balance %s', b.balance)
      FROM account_balances b WHERE NOT b.allow_negative AND b.balance < 0 AND ($1::uuid IS NULL OR b.cooperative_id = $1)`,
  // Paid credits are backed by the cash they brought in or, after a refund of credits already passed on,
  // by what the member owes (1200 receivables).
  cash_backs_credit_liability: `
    SELECT c.id, c.id::text, format('cash and member receivables %s < paid credits outstanding %s', backing.total, liability.total)
      FROM cooperatives c
      JOIN LATERAL (SELECT COALESCE(sum(b.balance), 0) AS total FROM accounts a JOIN account_balances b ON b.account_id = a.id
                     WHERE a.cooperative_id = c.id AND a.code IN ('${COOPERATIVE_ACCOUNTS.cash.code}', '${MEMBER_ACCOUNTS.receivable.code}')) backing ON true
      JOIN LATERAL (SELECT COALESCE(sum(b.balance), 0) AS total FROM accounts a JOIN account_balances b ON b.account_id = a.id
                     WHERE a.cooperative_id = c.id AND a.code = '${COOPERATIVE_ACCOUNTS.creditsOutstanding.code}') liability ON true
     WHERE backing.total < liability.total AND ($1::uuid IS NULL OR c.id = $1)`,
  staked_equals_active_positions: `
    SELECT a.cooperative_id, a.member_id::text, format('staking account %s, active positions %s', b.total, COALESCE(p.total, 0))
      FROM accounts a
      JOIN (SELECT account_id, sum(balance) AS total FROM account_balances GROUP BY account_id) b ON b.account_id = a.id
      LEFT JOIN (SELECT member_id, sum(amount) AS total FROM staking_positions WHERE status = 'active' GROUP BY member_id) p ON p.member_id = a.member_id
     WHERE a.code = '${MEMBER_ACCOUNTS.staking.code}' AND b.total <> COALESCE(p.total, 0) AND ($1::uuid IS NULL OR a.cooperative_id = $1)`,
  // A campaign never grants past its budget, and its running total is what its grants add up to.
  campaign_granted_within_budget: `
    SELECT c.cooperative_id, c.id::text, format('budget %s, granted %s, grants sum to %s', c.budget, c.granted, COALESCE(g.total, 0))
      FROM campaigns c
      LEFT JOIN (SELECT campaign_id, sum(amount) AS total FROM campaign_grants GROUP BY campaign_id) g ON g.campaign_id = c.id
     WHERE (c.granted > c.budget OR c.granted <> COALESCE(g.total, 0)) AND ($1::uuid IS NULL OR c.cooperative_id = $1)`,
  reserved_equals_open_holds: `
    SELECT l.cooperative_id, l.id::text, format('lot reserved %s, open holds on it %s', l.reserved, COALESCE(h.total, 0))
      FROM lots l
      LEFT JOIN (SELECT hl.lot_id, sum(hl.amount) AS total FROM hold_lots hl JOIN holds h ON h.id = hl.hold_id WHERE h.status = 'open' GROUP BY hl.lot_id) h ON h.lot_id = l.id
     WHERE l.reserved <> COALESCE(h.total, 0) AND ($1::uuid IS NULL OR l.cooperative_id = $1)`,
  lot_parts_add_up: `
    SELECT l.cooperative_id, l.id::text, format('original %s, available %s + reserved %s + consumed %s', l.original, l.available, l.reserved, l.consumed)
      FROM lots l WHERE l.available + l.reserved + l.consumed <> l.original AND ($1::uuid IS NULL OR l.cooperative_id = $1)`,
  // The hold-expiry schedule runs every minute: a hold still open five minutes past its expiry was missed.
  no_open_hold_past_expiry: `
    SELECT h.cooperative_id, h.id::text, format('open, expired at %s', h.expires_at)
      FROM holds h WHERE h.status = 'open' AND h.expires_at < $2::timestamptz - interval '5 minutes' AND ($1::uuid IS NULL OR h.cooperative_id = $1)`,
};

/**
 * The ledger against the payments that brought credits in: run by the daily reconciliation (and on
 * request), not by default, because the ledger alone can hold purchase lots minted outside a purchase.
 */
const PAYMENT_CHECKS = {
  purchase_minted_once: `
    SELECT p.cooperative_id, p.id::text, format('payment %s was paid and minted %s time(s)', p.payment_intent_id, count(l.id))
      FROM credit_purchases p LEFT JOIN lots l ON l.cooperative_id = p.cooperative_id AND l.source = 'purchase' AND l.source_id = p.payment_intent_id
     WHERE p.status IN ('minted', 'refunded') AND ($1::uuid IS NULL OR p.cooperative_id = $1)
     GROUP BY p.cooperative_id, p.id, p.payment_intent_id HAVING count(l.id) <> 1`,
  purchase_lot_has_one_payment: `
    SELECT l.cooperative_id, l.id::text, format('purchase lot for payment %s has %s paid purchase(s)', l.source_id, count(p.id))
      FROM lots l LEFT JOIN credit_purchases p ON p.cooperative_id = l.cooperative_id AND p.payment_intent_id = l.source_id AND p.status IN ('minted', 'refunded')
     WHERE l.source = 'purchase' AND ($1::uuid IS NULL OR l.cooperative_id = $1)
     GROUP BY l.cooperative_id, l.id, l.source_id HAVING count(p.id) <> 1`,
};

/**
 * Checks that span cooperatives, run once in the network scope. A Stripe payment reported succeeded
 * more than an hour ago must have been minted by now; intercooperative clearing nets to zero.
 */
const NETWORK_CHECKS = {
  succeeded_payment_minted: `
    SELECT p.cooperative_id, e.id, format('Stripe reported %s at %s; the purchase is %s', e.type, e.received_at, p.status)
      FROM stripe_events e JOIN credit_purchases p ON p.id = e.purchase_id
     WHERE e.type IN ('payment_intent.succeeded', 'checkout.session.completed') AND e.received_at < $2::timestamptz - interval '1 hour'
       AND p.status NOT IN ('minted', 'refunded') AND ($1::uuid IS NULL OR p.cooperative_id = $1)`,
  // Both sides of every exchange settled, or neither (decision 0022): each exchange's clearing entries,
  // in the two cooperatives' books, net to zero once it is five minutes old.
  clearing_nets_to_zero: `
    SELECT cooperative_id, exchange_id, detail FROM clearing_imbalances($2::timestamptz) WHERE ($1::uuid IS NULL OR cooperative_id = $1)`,
};

const COOPERATIVES_AT_ONCE = 4;

export type IntegrityCheck = keyof typeof CHECKS | keyof typeof PAYMENT_CHECKS | keyof typeof NETWORK_CHECKS;
/** The ledger's own invariants: what the report checks unless asked for others. */
export const INTEGRITY_CHECKS = Object.keys(CHECKS) as IntegrityCheck[];

export interface IntegrityOptions {
  /** Only these checks (default: the ledger's own, INTEGRITY_CHECKS). */
  checks?: readonly IntegrityCheck[];
  /** The instant checked, for checks about due dates (default: now). */
  asOf?: Date;
  /** Called as cooperatives are checked: a long report shows it is alive (an activity's heartbeat). */
  onProgress?: () => void;
}

/** Runs the checks (for one cooperative, or all) and returns what each found. The daily reconciliation and tests call it. */
export async function integrityReport(pool: Pool, cooperativeId?: string, options: IntegrityOptions = {}): Promise<IntegrityReport> {
  const asOf = options.asOf ?? new Date();
  const wanted = options.checks ?? INTEGRITY_CHECKS;
  const findings: IntegrityFinding[] = [];
  const run = async (client: PoolClient, checks: Record<string, string>, cooperativeId: string | null) => {
    for (const [check, sql] of Object.entries(checks)) {
      if (!wanted.includes(check as IntegrityCheck)) continue;
      // Only checks about due dates take the instant (PostgreSQL refuses a parameter a statement does not use).
      const values = sql.includes('$2') ? [cooperativeId, asOf] : [cooperativeId];
      const { rows } = await client.query<[string, string, string]>({ text: sql, values, rowMode: 'array' });
      for (const [c, subject, detail] of rows) findings.push({ check, cooperativeId: c, subject, detail });
    }
  };
  // Each cooperative's books are checked inside its own scope, as the application role sees them.
  const cooperatives = cooperativeId ? [cooperativeId] : await cooperativeIds(pool);
  // A few cooperatives at a time: a network of hundreds is checked in a fraction of the time, without taking the pool.
  for (let i = 0; i < cooperatives.length; i += COOPERATIVES_AT_ONCE) {
    await Promise.all(cooperatives.slice(i, i + COOPERATIVES_AT_ONCE).map((coop) => inTenantSnapshot(pool, coop, (client) => run(client, { ...CHECKS, ...PAYMENT_CHECKS }, coop))));
    options.onProgress?.();
  }
  if (Object.keys(NETWORK_CHECKS).some((check) => wanted.includes(check as IntegrityCheck))) {
    await inSystemTransaction(pool, (client) => run(client, NETWORK_CHECKS, cooperativeId ?? null));
  }
  return { checkedAt: asOf.toISOString(), checks: [...wanted], findings, clean: findings.length === 0 };
}
