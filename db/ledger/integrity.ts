import type { Pool } from 'pg';
import { COOPERATIVE_ACCOUNTS, MEMBER_ACCOUNTS } from '../../domain/chart-of-accounts';
import { cooperativeIds } from '../cooperatives';
import { inTenantSnapshot } from '../transaction';

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
 * detail). `$1` is the cooperative; each check runs in that cooperative's own scope.
 */
const CHECKS: Record<string, string> = {
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
  reserved_equals_open_holds: `
    SELECT l.cooperative_id, l.id::text, format('lot reserved %s, open holds on it %s', l.reserved, COALESCE(h.total, 0))
      FROM lots l
      LEFT JOIN (SELECT hl.lot_id, sum(hl.amount) AS total FROM hold_lots hl JOIN holds h ON h.id = hl.hold_id WHERE h.status = 'open' GROUP BY hl.lot_id) h ON h.lot_id = l.id
     WHERE l.reserved <> COALESCE(h.total, 0) AND ($1::uuid IS NULL OR l.cooperative_id = $1)`,
};

/** Runs every check (for one cooperative, or all) and returns what each found. The daily reconciliation and tests call it. */
export async function integrityReport(pool: Pool, cooperativeId?: string): Promise<IntegrityReport> {
  // Each cooperative's books are checked inside its own scope, as the application role sees them.
  const cooperatives = cooperativeId ? [cooperativeId] : await cooperativeIds(pool);
  const findings: IntegrityFinding[] = [];
  for (const coop of cooperatives) {
    await inTenantSnapshot(pool, coop, async (client) => {
      for (const [check, sql] of Object.entries(CHECKS)) {
        const { rows } = await client.query<[string, string, string]>({ text: sql, values: [coop], rowMode: 'array' });
        for (const [c, subject, detail] of rows) findings.push({ check, cooperativeId: c, subject, detail });
      }
    });
  }
  return { checkedAt: new Date().toISOString(), checks: Object.keys(CHECKS), findings, clean: findings.length === 0 };
}
