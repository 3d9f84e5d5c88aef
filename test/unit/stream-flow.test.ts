import { flowOver } from '../../domain/stream-flow';
import { driftBeyond } from '../../domain/stream-reconciliation';

describe('flow over an interval', () => {
  const rate1 = 385_802_469_135_802n;
  const rate2 = 1_157_407_407_407_407n;

  it('is rate × seconds for each rate in force, exact in wei, with the rate in force at the end', () => {
    expect(flowOver(rate1, 1_000n, 87_400n, [])).toEqual({ amount: rate1 * 86_400n, endRate: rate1 });
    expect(flowOver(rate1, 1_000n, 87_400n, [{ timestamp: 50_017n, flowRate: rate2 }, { timestamp: 80_000n, flowRate: 0n }])).toEqual({
      amount: rate1 * 49_017n + rate2 * 29_983n,
      endRate: 0n,
    });
  });

  it('starts a flow that was not running and counts a change at the end in the next interval only', () => {
    expect(flowOver(0n, 0n, 100n, [{ timestamp: 0n, flowRate: 5n }, { timestamp: 100n, flowRate: 9n }])).toEqual({ amount: 500n, endRate: 9n });
  });

  it('adds up over consecutive intervals to the flow over their union', () => {
    const changes = [{ timestamp: 30n, flowRate: rate2 }, { timestamp: 130n, flowRate: 7n }, { timestamp: 170n, flowRate: 0n }];
    const whole = flowOver(rate1, 0n, 200n, changes);
    const cuts = [0n, 30n, 31n, 100n, 130n, 199n, 200n];
    let rate = rate1;
    let sum = 0n;
    for (let i = 0; i + 1 < cuts.length; i++) {
      // Each change once: in the interval it falls in (one at a cut starts the next interval).
      const part = flowOver(rate, cuts[i]!, cuts[i + 1]!, changes.filter((c) => c.timestamp >= cuts[i]! && c.timestamp < cuts[i + 1]!));
      sum += part.amount;
      rate = part.endRate;
    }
    expect(sum).toBe(whole.amount);
  });

  it('refuses changes outside the interval or out of order, negative rates and empty intervals', () => {
    expect(() => flowOver(1n, 10n, 20n, [{ timestamp: 9n, flowRate: 1n }])).toThrow(RangeError);
    expect(() => flowOver(1n, 10n, 20n, [{ timestamp: 15n, flowRate: 1n }, { timestamp: 12n, flowRate: 1n }])).toThrow(RangeError);
    expect(() => flowOver(1n, 10n, 20n, [{ timestamp: 21n, flowRate: 1n }])).toThrow(RangeError);
    expect(() => flowOver(-1n, 10n, 20n, [])).toThrow(RangeError);
    expect(() => flowOver(1n, 20n, 20n, [])).toThrow(RangeError);
  });
});

describe('stream reconciliation drift', () => {
  it('is beyond the threshold when the balance moved more than its share of what was booked away from it', () => {
    expect(driftBeyond(1_000n, 1_100n, 1_000)).toBe(false);
    expect(driftBeyond(1_000n, 1_101n, 1_000)).toBe(true);
    expect(driftBeyond(-1_000n, -900n, 1_000)).toBe(false);
    expect(driftBeyond(-1_000n, -899n, 1_000)).toBe(true);
    expect(driftBeyond(0n, 0n, 1_000)).toBe(false);
    expect(driftBeyond(0n, 1n, 1_000)).toBe(true);
    expect(driftBeyond(1_000n, 1_001n, 0)).toBe(true);
  });
});
