import { BusinessError } from '../../domain/errors';
import { checkCorrectable, checkCorrectionDecision, correctionAmount, needsSecondApproval } from '../../domain/corrections';

function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof BusinessError) return err.code;
    throw err;
  }
}

describe('four eyes on corrections', () => {
  it('measures a correction by what the corrected transaction moved in CLOUD, or in USD when it moved no CLOUD', () => {
    const transfer = [{ currency: 'CLOUD' as const, amount: 5_000_000n }, { currency: 'CLOUD' as const, amount: -5_000_000n }];
    expect(correctionAmount(transfer)).toBe(5_000_000n);
    const mint = [...transfer, { currency: 'USD' as const, amount: 50_000_000n }, { currency: 'USD' as const, amount: -50_000_000n }];
    expect(correctionAmount(mint)).toBe(5_000_000n);
    expect(correctionAmount([{ currency: 'USD', amount: 30_000_000n }, { currency: 'USD', amount: -30_000_000n }])).toBe(3_000_000n);
  });

  it('needs a second operator only above the threshold', () => {
    expect(needsSecondApproval(100_000_000n, 100_000_000n)).toBe(false);
    expect(needsSecondApproval(100_000_001n, 100_000_000n)).toBe(true);
  });

  it('lets a second operator approve, never the proposer; a rejection needs a reason; only a proposed correction is decided', () => {
    expect(refusal(() => checkCorrectionDecision('proposed', 'approve', { actor: 'op-b', proposer: 'op-a' }))).toBeUndefined();
    expect(refusal(() => checkCorrectionDecision('proposed', 'approve', { actor: 'op-a', proposer: 'op-a' }))).toBe('FORBIDDEN');
    expect(refusal(() => checkCorrectionDecision('proposed', 'reject', { actor: 'op-a', proposer: 'op-a', reason: 'withdrawn' }))).toBeUndefined();
    expect(refusal(() => checkCorrectionDecision('proposed', 'reject', { actor: 'op-b', proposer: 'op-a', reason: '  ' }))).toBe('VALIDATION_ERROR');
    for (const status of ['applied', 'rejected', 'expired'] as const) expect(refusal(() => checkCorrectionDecision(status, 'approve', { actor: 'op-b', proposer: 'op-a' }))).toBe('CONFLICT');
  });

  it('never corrects a stake, an unstake or a correction', () => {
    for (const type of ['stake', 'unstake', 'correction'] as const) expect(refusal(() => checkCorrectable(type))).toBe('CONFLICT');
    expect(refusal(() => checkCorrectable('transfer'))).toBeUndefined();
  });
});
