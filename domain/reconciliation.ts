/** Reconciliation runs: what is reconciled (the ledger's integrity, or streams against the chain) and how a run ends. */
export const RECONCILIATION_KINDS = ['ledger', 'streams'] as const;
export type ReconciliationKind = (typeof RECONCILIATION_KINDS)[number];

export const RECONCILIATION_STATUSES = ['running', 'passed', 'failed'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export interface ReconciliationCheckResult {
  name: string;
  passed: boolean;
  findings: number;
}

export interface ReconciliationFinding {
  check: string;
  cooperativeId: string | null;
  subject: string;
  detail: string;
}

export interface ReconciliationRun {
  id: string;
  kind: ReconciliationKind;
  /** The cooperative a run examined alone (stream runs), or null for a run over the whole network (the ledger's). */
  cooperativeId: string | null;
  runKey: string;
  scheduledFor: string;
  status: ReconciliationStatus;
  checks: ReconciliationCheckResult[];
  findingCount: number;
  startedAt: string;
  finishedAt: string | null;
}

/** A run's business key: one run per kind, cooperative (when it examines one) and scheduled instant (to the second). */
export function reconciliationRunKey(kind: ReconciliationKind, scheduledFor: Date, cooperativeId?: string): string {
  return `${kind}:${cooperativeId ? `${cooperativeId}:` : ''}${new Date(Math.floor(scheduledFor.getTime() / 1000) * 1000).toISOString()}`;
}

/**
 * A network-wide run as an operator bound to one cooperative sees it: its checks, counts and outcome from
 * that cooperative's stored findings alone (`partsOf`: the finding checks each run check is made of), so
 * other cooperatives' results do not show through the totals. A check whose findings were not all stored
 * (`storedOf`: stored findings of every cooperative, by finding check) cannot be said to pass for anyone.
 */
export function runSeenByCooperative(
  run: ReconciliationRun,
  own: readonly ReconciliationFinding[],
  partsOf: Readonly<Record<string, readonly string[]>>,
  storedOf: ReadonlyMap<string, number>,
): ReconciliationRun {
  const checks = run.checks.map((c) => {
    const parts = partsOf[c.name] ?? [c.name];
    const findings = own.filter((f) => parts.includes(f.check)).length;
    const allStored = parts.reduce((n, part) => n + (storedOf.get(part) ?? 0), 0) >= c.findings;
    return { name: c.name, passed: findings === 0 && allStored, findings };
  });
  const status: ReconciliationStatus = run.status === 'running' ? 'running' : checks.every((c) => c.passed) ? 'passed' : 'failed';
  return { ...run, checks, findingCount: own.length, status };
}
