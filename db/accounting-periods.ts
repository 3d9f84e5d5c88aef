import type { Pool, PoolClient } from 'pg';
import { periodBounds, type AccountingPeriod, type PeriodStatus } from '../domain/accounting-periods';
import { formatMicros } from '../domain/money';
import { recordEvent } from './outbox';
import { inTenantTransaction } from './transaction';

/**
 * Accounting periods: a period is open until its close is recorded here. The database holds the rules
 * of a close (migration 1763802100000): it happens after the period's end and once every stream is
 * sampled to it, closed stays closed, and no stream sample posts into a closed period.
 */

async function readPeriod(client: PoolClient, cooperativeId: string, period: string): Promise<AccountingPeriod> {
  const { start, end } = periodBounds(period);
  const { rows } = await client.query<{ status: PeriodStatus; requested_by: string; closed_at: Date | null }>(
    'SELECT status, requested_by, closed_at FROM accounting_periods WHERE cooperative_id = $1 AND period = $2',
    [cooperativeId, period],
  );
  const { rows: sums } = await client.query<{ count: number; usd: bigint }>(
    'SELECT count(*)::int AS count, COALESCE(sum(amount_usd), 0)::bigint AS usd FROM stream_samples WHERE cooperative_id = $1 AND interval_start >= $2 AND interval_start < $3',
    [cooperativeId, start, end],
  );
  return {
    cooperativeId, period, startsAt: start.toISOString(), endsAt: end.toISOString(), status: rows[0]?.status ?? 'open', requestedBy: rows[0]?.requested_by ?? null,
    closedAt: rows[0]?.closed_at?.toISOString() ?? null, streamSamples: { count: sums[0]!.count, amountUsd: sums[0]!.usd },
  };
}

export function findPeriod(pool: Pool, cooperativeId: string, period: string): Promise<AccountingPeriod> {
  return inTenantTransaction(pool, cooperativeId, (client) => readPeriod(client, cooperativeId, period));
}

/** Records that the period is closing (once: a repeat returns the period as it is). */
export function beginClose(pool: Pool, cooperativeId: string, period: string, requestedBy: string): Promise<AccountingPeriod> {
  const { start, end } = periodBounds(period);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    await client.query(
      `INSERT INTO accounting_periods (cooperative_id, period, starts_at, ends_at, status, requested_by) VALUES ($1, $2, $3, $4, 'closing', $5)
       ON CONFLICT (cooperative_id, period) DO NOTHING`,
      [cooperativeId, period, start, end, requestedBy],
    );
    return readPeriod(client, cooperativeId, period);
  });
}

/**
 * Closes the period, with its `period.closed` event. Refused by the database while a stream is not
 * sampled to the period's end: the caller gets the database's reason and samples again.
 */
export async function completeClose(pool: Pool, cooperativeId: string, period: string): Promise<{ closed: true; period: AccountingPeriod } | { closed: false; reason: string }> {
  try {
    const closed = await inTenantTransaction(pool, cooperativeId, async (client) => {
      const { rowCount } = await client.query(`UPDATE accounting_periods SET status = 'closed', closed_at = now() WHERE cooperative_id = $1 AND period = $2 AND status = 'closing'`, [cooperativeId, period]);
      const read = await readPeriod(client, cooperativeId, period);
      if (rowCount) {
        await recordEvent(client, cooperativeId, {
          type: 'period.closed',
          aggregateId: `${cooperativeId}:${period}`,
          payload: { period, startsAt: read.startsAt, endsAt: read.endsAt, streamSamples: read.streamSamples.count, streamAmountUsd: formatMicros(read.streamSamples.amountUsd) },
        });
      }
      return read;
    });
    return { closed: true, period: closed };
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'accounting_periods_sampled') return { closed: false, reason: (err as Error).message };
    throw err;
  }
}
