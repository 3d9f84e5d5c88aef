import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { isUuid } from '../domain/ids';
import {
  reconciliationRunKey, runSeenByCooperative, type ReconciliationCheckResult, type ReconciliationFinding, type ReconciliationKind, type ReconciliationRun, type ReconciliationStatus,
} from '../domain/reconciliation';
import { isCursorInstant, readCursor, toPage, type Page } from './cursor';
import { toJsonParam } from './json';
import { integrityReport, type IntegrityCheck } from './ledger';
import { recordEvent } from './outbox';
import { inSystemTransaction } from './transaction';

/** The daily ledger reconciliation: the billing seed's four checks, each made of the integrity checks that prove it. */
export const LEDGER_RECONCILIATION_CHECKS: Record<string, IntegrityCheck[]> = {
  entries_balance_per_currency: ['entries_balance_per_currency'],
  lots_add_up_and_wallets_equal_lots: ['lot_parts_add_up', 'wallet_equals_lots'],
  no_hold_open_past_expiry: ['no_open_hold_past_expiry'],
  payments_match_mints: ['succeeded_payment_minted', 'purchase_minted_once', 'purchase_lot_has_one_payment'],
  clearing_nets_to_zero: ['clearing_nets_to_zero'],
};

/** A broken ledger could break millions of rows: the run stores the first findings of each check and counts them all. */
const STORED_FINDINGS_PER_CHECK = 1000;

interface RunRow {
  id: string;
  kind: ReconciliationKind;
  cooperative_id: string | null;
  run_key: string;
  scheduled_for: Date;
  status: ReconciliationStatus;
  checks: ReconciliationCheckResult[];
  finding_count: number;
  started_at: Date;
  finished_at: Date | null;
}

const RUN_COLUMNS = 'id, kind, cooperative_id, run_key, scheduled_for, status, checks, finding_count, started_at, finished_at';

const toRun = (r: RunRow): ReconciliationRun => ({
  id: r.id, kind: r.kind, cooperativeId: r.cooperative_id, runKey: r.run_key, scheduledFor: r.scheduled_for.toISOString(), status: r.status, checks: r.checks,
  findingCount: r.finding_count, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null,
});

export interface ReconciliationOutcome {
  run: ReconciliationRun;
  /** Cooperatives that got a `reconciliation.alert` event from this call (none on a replay). */
  alerted: string[];
  replayed: boolean;
}

/** What a reconciliation found: every check in order, with all its findings. */
export interface ReconciliationExamination {
  checks: Array<{ name: string; findings: ReconciliationFinding[] }>;
}

/**
 * Runs a reconciliation of `kind` for one scheduled instant, once: the run is keyed by that instant, so
 * a second call (a retried activity, a schedule firing twice, a backfill) returns the finished run, and
 * a run left `running` by a lost worker is examined again. `examine` does the checking (given the run's
 * id); the result, the first findings of each check and one `reconciliation.alert` event per
 * cooperative with findings are written in one transaction. A run of one cooperative (`cooperativeId`)
 * is keyed by it too.
 */
export async function runReconciliation(
  pool: Pool,
  run: { kind: ReconciliationKind; scheduledFor: Date; cooperativeId?: string },
  examine: (runId: string) => Promise<ReconciliationExamination>,
): Promise<ReconciliationOutcome> {
  const runKey = reconciliationRunKey(run.kind, run.scheduledFor, run.cooperativeId);
  const started = await inSystemTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO reconciliation_runs (id, kind, cooperative_id, run_key, scheduled_for, status) VALUES ($1, $2, $3, $4, $5, 'running') ON CONFLICT (run_key) DO NOTHING`,
      [randomUUID(), run.kind, run.cooperativeId ?? null, runKey, run.scheduledFor],
    );
    const { rows } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE run_key = $1`, [runKey]);
    return toRun(rows[0]!);
  });
  if (started.status !== 'running') return { run: started, alerted: [], replayed: true };

  const examination = await examine(started.id);
  const findings = examination.checks.flatMap((c) => c.findings);
  const checks = examination.checks.map((c) => ({ name: c.name, passed: c.findings.length === 0, findings: c.findings.length }));
  const stored = [...new Set(findings.map((f) => f.check))].flatMap((check) => findings.filter((f) => f.check === check).slice(0, STORED_FINDINGS_PER_CHECK));
  const status: ReconciliationStatus = findings.length === 0 ? 'passed' : 'failed';

  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<RunRow>(
      `UPDATE reconciliation_runs SET status = $2, checks = $3::jsonb, finding_count = $4, finished_at = now() WHERE id = $1 AND status = 'running' RETURNING ${RUN_COLUMNS}`,
      [started.id, status, toJsonParam(checks), findings.length],
    );
    // Another call finished the same run meanwhile: its result stands.
    if (rows.length === 0) {
      const { rows: done } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1`, [started.id]);
      return { run: toRun(done[0]!), alerted: [], replayed: true };
    }
    await client.query(
      `INSERT INTO reconciliation_findings (run_id, check_name, cooperative_id, subject, detail)
       SELECT $1, x.check, x.cooperative_id, x.subject, x.detail FROM jsonb_to_recordset($2::jsonb) AS x("check" text, cooperative_id uuid, subject text, detail text)`,
      [started.id, toJsonParam(stored.map((f) => ({ check: f.check, cooperative_id: f.cooperativeId, subject: f.subject, detail: f.detail })))],
    );
    const run = toRun(rows[0]!);
    const alerted = [...new Set(findings.map((f) => f.cooperativeId).filter((c): c is string => c !== null))];
    for (const cooperativeId of alerted) {
      const own = findings.filter((f) => f.cooperativeId === cooperativeId);
      await recordEvent(client, cooperativeId, {
        type: 'reconciliation.alert', aggregateId: run.id,
        payload: { runId: run.id, kind: run.kind, scheduledFor: run.scheduledFor, failedChecks: checks.filter((c) => !c.passed).map((c) => c.name), findings: own.length },
      });
    }
    return { run, alerted, replayed: false };
  });
}

/** The ledger reconciliation for one scheduled instant: the billing seed's four checks, as of that instant. */
export function reconcileLedger(pool: Pool, scheduledFor: Date, onProgress: () => void = () => {}): Promise<ReconciliationOutcome> {
  return runReconciliation(pool, { kind: 'ledger', scheduledFor }, async () => {
    const report = await integrityReport(pool, undefined, { checks: Object.values(LEDGER_RECONCILIATION_CHECKS).flat(), asOf: scheduledFor, onProgress });
    return {
      checks: Object.entries(LEDGER_RECONCILIATION_CHECKS).map(([name, parts]) => ({ name, findings: report.findings.filter((f) => parts.includes(f.check as IntegrityCheck)) })),
    };
  });
}

/** Runs, newest scheduled first, optionally of one kind, status or cooperative (its own runs). */
export function listReconciliations(
  pool: Pool,
  filter: { kind?: ReconciliationKind; status?: ReconciliationStatus; cooperativeId?: string; limit: number; cursor?: string },
): Promise<Page<ReconciliationRun>> {
  const after = readCursor(filter.cursor, ([at, id]) => {
    if (!isCursorInstant(at) || typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
    return { at, id };
  });
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM reconciliation_runs
        WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2) AND ($6::uuid IS NULL OR cooperative_id = $6)
          AND ($3::timestamptz IS NULL OR (scheduled_for, id) < ($3::timestamptz, $4::uuid))
        ORDER BY scheduled_for DESC, id DESC LIMIT $5`,
      [filter.kind ?? null, filter.status ?? null, after?.at ?? null, after?.id ?? null, filter.limit + 1, filter.cooperativeId ?? null],
    );
    return toPage(rows, filter.limit, (r) => [r.scheduled_for.toISOString(), r.id], toRun);
  });
}

/**
 * One run with its stored findings. A reader bound to a cooperative finds only that cooperative's runs and
 * the network-wide ones, and sees only its cooperative's findings and what they add up to.
 */
export function findReconciliation(pool: Pool, id: string, cooperativeId?: string): Promise<(ReconciliationRun & { findings: ReconciliationFinding[] }) | undefined> {
  return inSystemTransaction(pool, async (client) => {
    const { rows } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1 AND ($2::uuid IS NULL OR cooperative_id IS NULL OR cooperative_id = $2)`, [id, cooperativeId ?? null]);
    if (!rows[0]) return undefined;
    const { rows: findings } = await client.query<{ check_name: string; cooperative_id: string | null; subject: string; detail: string }>(
      `SELECT check_name, cooperative_id, subject, detail FROM reconciliation_findings WHERE run_id = $1 AND ($2::uuid IS NULL OR cooperative_id = $2) ORDER BY id`,
      [id, cooperativeId ?? null],
    );
    const run = toRun(rows[0]);
    const own = findings.map((f) => ({ check: f.check_name, cooperativeId: f.cooperative_id, subject: f.subject, detail: f.detail }));
    if (!cooperativeId || run.cooperativeId !== null) return { ...run, findings: own };
    const stored = await client.query<{ check_name: string; n: number }>('SELECT check_name, count(*)::int AS n FROM reconciliation_findings WHERE run_id = $1 GROUP BY check_name', [id]);
    return { ...runSeenByCooperative(run, own, LEDGER_RECONCILIATION_CHECKS, new Map(stored.rows.map((r) => [r.check_name, r.n]))), findings: own };
  });
}
