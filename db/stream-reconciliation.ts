import type { Pool } from 'pg';
import { toJsonParam } from './json';
import { inSystemTransaction } from './transaction';

/**
 * What the daily stream reconciliation reads and keeps (activities/stream-reconciliation.ts compares):
 * recent samples with where each started, and per cooperative account the balance and the booked
 * total at each run.
 */

/** A sample with where its interval started: the previous sample's end (or the stream's registration). */
export interface ReplayableSample {
  streamId: string;
  intervalStart: string;
  intervalEnd: string;
  amountWei: bigint;
  startRate: bigint;
  startBlock: bigint;
  endFlowRate: bigint;
  endBlock: bigint;
}

/** The cooperative's samples that end after `after` (all of them when undefined), in order. */
export function samplesEndingAfter(pool: Pool, cooperativeId: string, after: Date | undefined): Promise<ReplayableSample[]> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      stream_id: string; interval_start: Date; interval_end: Date; amount_wei: string; start_rate: string; start_block: bigint; end_flow_rate: string; end_block: bigint;
    }>(
      `SELECT * FROM (
         SELECT x.stream_id, x.interval_start, x.interval_end, x.amount_wei::text AS amount_wei, x.end_flow_rate::text AS end_flow_rate, x.end_block,
                COALESCE(lag(x.end_flow_rate) OVER w, s.registered_rate)::text AS start_rate, COALESCE(lag(x.end_block) OVER w, s.registered_block) AS start_block
           FROM stream_samples x JOIN streams s ON s.id = x.stream_id
          WHERE x.cooperative_id = $2
         WINDOW w AS (PARTITION BY x.stream_id ORDER BY x.interval_end)) t
        WHERE $1::timestamptz IS NULL OR t.interval_end > $1
        ORDER BY t.stream_id, t.interval_end`,
      [after ?? null, cooperativeId],
    );
    return rows.map((r) => ({
      streamId: r.stream_id, intervalStart: r.interval_start.toISOString(), intervalEnd: r.interval_end.toISOString(), amountWei: BigInt(r.amount_wei),
      startRate: BigInt(r.start_rate), startBlock: r.start_block, endFlowRate: BigInt(r.end_flow_rate), endBlock: r.end_block,
    }));
  });
}

/** A cooperative's account of a token, as a reconciliation run found it. */
export interface AccountSnapshot {
  cooperativeId: string;
  token: string;
  account: string;
  block: bigint;
  takenAt: string;
  balance: bigint;
  booked: bigint;
}

export const snapshotKey = (s: Pick<AccountSnapshot, 'cooperativeId' | 'token' | 'account'>) => `${s.cooperativeId}:${s.token.toLowerCase()}:${s.account.toLowerCase()}`;

/** Each of the cooperative's accounts' latest snapshot taken before `before`, by snapshotKey. */
export function latestSnapshots(pool: Pool, cooperativeId: string, before: Date): Promise<Map<string, AccountSnapshot>> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<{ cooperative_id: string; token: string; account: string; block: bigint; taken_at: Date; balance: string; booked: string }>(
      `SELECT DISTINCT ON (cooperative_id, lower(token), lower(account)) cooperative_id, token, account, block, taken_at, balance::text AS balance, booked::text AS booked
         FROM stream_account_snapshots WHERE cooperative_id = $2 AND taken_at < $1
        ORDER BY cooperative_id, lower(token), lower(account), taken_at DESC`,
      [before, cooperativeId],
    );
    const snapshots = rows.map((r) => ({ cooperativeId: r.cooperative_id, token: r.token, account: r.account, block: r.block, takenAt: r.taken_at.toISOString(), balance: BigInt(r.balance), booked: BigInt(r.booked) }));
    return new Map(snapshots.map((s) => [snapshotKey(s), s]));
  });
}

/** Keeps a run's snapshots (once per run and account: a run examined again keeps its first). */
export function recordSnapshots(pool: Pool, runId: string, snapshots: AccountSnapshot[]): Promise<void> {
  return inSystemTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO stream_account_snapshots (run_id, cooperative_id, token, account, block, taken_at, balance, booked)
       SELECT $1, x.cooperative_id, x.token, x.account, x.block, x.taken_at, x.balance, x.booked
         FROM jsonb_to_recordset($2::jsonb) AS x(cooperative_id uuid, token text, account text, block bigint, taken_at timestamptz, balance numeric, booked numeric)
       ON CONFLICT DO NOTHING`,
      [runId, toJsonParam(snapshots.map((s) => ({ cooperative_id: s.cooperativeId, token: s.token, account: s.account, block: s.block, taken_at: s.takenAt, balance: s.balance, booked: s.booked })))],
    );
  });
}
