import { runSeenByCooperative, type ReconciliationRun } from '../../domain/reconciliation';

const run: ReconciliationRun = {
  id: 'r', kind: 'ledger', cooperativeId: null, runKey: 'ledger:x', scheduledFor: '2026-01-01T00:00:00.000Z', status: 'failed',
  checks: [{ name: 'lots', passed: false, findings: 7 }, { name: 'holds', passed: false, findings: 3 }, { name: 'clearing', passed: true, findings: 0 }],
  findingCount: 10, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z',
};
const parts = { lots: ['lot_parts_add_up', 'wallet_equals_lots'], holds: ['no_open_hold_past_expiry'] };
// Every finding of the run stored: 7 of the lots check, 3 of the holds check.
const allStored = new Map([['wallet_equals_lots', 5], ['lot_parts_add_up', 2], ['no_open_hold_past_expiry', 3]]);

describe('a network-wide reconciliation run as an operator bound to one cooperative sees it', () => {
  it("counts that cooperative's findings only, by the parts each check is made of", () => {
    const seen = runSeenByCooperative(run, [{ check: 'wallet_equals_lots', cooperativeId: 'c', subject: 's', detail: 'd' }, { check: 'lot_parts_add_up', cooperativeId: 'c', subject: 't', detail: 'd' }], parts, allStored);
    expect(seen.checks).toEqual([{ name: 'lots', passed: false, findings: 2 }, { name: 'holds', passed: true, findings: 0 }, { name: 'clearing', passed: true, findings: 0 }]);
    expect(seen).toMatchObject({ findingCount: 2, status: 'failed' });
  });

  it('passes when the cooperative has no findings, and stays running while the run does', () => {
    expect(runSeenByCooperative(run, [], parts, allStored)).toMatchObject({ findingCount: 0, status: 'passed' });
    expect(runSeenByCooperative({ ...run, status: 'running' }, [], parts, allStored).status).toBe('running');
  });

  it('does not pass a check whose findings were not all stored: the cooperative\'s may be among those left out', async () => {
    const seen = runSeenByCooperative(run, [], parts, new Map([['wallet_equals_lots', 4], ['no_open_hold_past_expiry', 3]]));
    expect(seen.checks.map((c) => [c.name, c.passed])).toEqual([['lots', false], ['holds', true], ['clearing', true]]);
    expect(seen.status).toBe('failed');
  });
});
