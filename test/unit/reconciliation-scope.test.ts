import { runSeenByCooperative, type ReconciliationRun } from '../../domain/reconciliation';

const run: ReconciliationRun = {
  id: 'r', kind: 'ledger', cooperativeId: null, runKey: 'ledger:x', scheduledFor: '2026-01-01T00:00:00.000Z', status: 'failed',
  checks: [{ name: 'lots', passed: false, findings: 7 }, { name: 'holds', passed: false, findings: 3 }, { name: 'clearing', passed: true, findings: 0 }],
  findingCount: 10, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z',
};
const parts = { lots: ['lot_parts_add_up', 'wallet_equals_lots'], holds: ['no_open_hold_past_expiry'] };

describe('a network-wide reconciliation run as an operator bound to one cooperative sees it', () => {
  it("counts that cooperative's findings only, by the parts each check is made of", () => {
    const seen = runSeenByCooperative(run, [{ check: 'wallet_equals_lots', cooperativeId: 'c', subject: 's', detail: 'd' }, { check: 'lot_parts_add_up', cooperativeId: 'c', subject: 't', detail: 'd' }], parts);
    expect(seen.checks).toEqual([{ name: 'lots', passed: false, findings: 2 }, { name: 'holds', passed: true, findings: 0 }, { name: 'clearing', passed: true, findings: 0 }]);
    expect(seen).toMatchObject({ findingCount: 2, status: 'failed' });
  });

  it('passes when the cooperative has no findings, and stays running while the run does', () => {
    expect(runSeenByCooperative(run, [], parts)).toMatchObject({ findingCount: 0, status: 'passed' });
    expect(runSeenByCooperative({ ...run, status: 'running' }, [], parts).status).toBe('running');
  });
});
