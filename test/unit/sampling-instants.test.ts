import { nextPeriodBoundary, periodBounds, periodOf } from '../../domain/accounting-periods';
import { dueInstants } from '../../domain/sampling-instants';

const at = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('accounting periods', () => {
  it('are UTC calendar months, half-open: the boundary instant belongs to the next one', () => {
    expect(periodBounds('2026-02')).toEqual({ start: at('2026-02-01T00:00:00Z'), end: at('2026-03-01T00:00:00Z') });
    expect(periodBounds('2026-12').end).toEqual(at('2027-01-01T00:00:00Z'));
    expect(periodOf(at('2026-02-28T23:59:59.999Z'))).toBe('2026-02');
    expect(periodOf(at('2026-03-01T00:00:00Z'))).toBe('2026-03');
    expect(nextPeriodBoundary(at('2026-03-01T00:00:00Z'))).toEqual(at('2026-04-01T00:00:00Z'));
    expect(() => periodBounds('2026-13')).toThrow(/YYYY-MM/);
  });
});

describe('sampling instants', () => {
  it('keep to the grid of each interval, strictly after where the books stand, up to and including the run', () => {
    expect(isos(dueInstants('hourly', at('2026-05-04T10:20:00Z'), at('2026-05-04T13:00:00Z'), 10))).toEqual(['2026-05-04T11:00:00.000Z', '2026-05-04T12:00:00.000Z', '2026-05-04T13:00:00.000Z']);
    expect(isos(dueInstants('hourly', at('2026-05-04T11:00:00Z'), at('2026-05-04T11:59:59Z'), 10))).toEqual([]);
    expect(isos(dueInstants('daily', at('2026-05-04T10:20:00Z'), at('2026-05-06T00:00:00Z'), 10))).toEqual(['2026-05-05T00:00:00.000Z', '2026-05-06T00:00:00.000Z']);
    // 2026-05-04 is a Monday.
    expect(isos(dueInstants('weekly', at('2026-05-04T00:00:00Z'), at('2026-05-18T00:00:00Z'), 10))).toEqual(['2026-05-11T00:00:00.000Z', '2026-05-18T00:00:00.000Z']);
  });

  it('add every period boundary, whatever the interval, so no sample straddles two periods', () => {
    expect(isos(dueInstants('weekly', at('2026-05-25T00:00:00Z'), at('2026-06-08T00:00:00Z'), 10))).toEqual(['2026-06-01T00:00:00.000Z', '2026-06-08T00:00:00.000Z']);
    expect(isos(dueInstants('weekly', at('2026-06-22T00:00:00Z'), at('2026-07-06T00:00:00Z'), 10))).toEqual(['2026-06-29T00:00:00.000Z', '2026-07-01T00:00:00.000Z', '2026-07-06T00:00:00.000Z']);
    expect(isos(dueInstants('period_end', at('2026-01-15T08:00:00Z'), at('2026-04-01T00:00:00Z'), 10))).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(isos(dueInstants('period_end', at('2026-01-15T08:00:00Z'), at('2026-01-31T23:59:59Z'), 10))).toEqual([]);
  });

  it('stop at the limit, oldest first, so a stream far behind catches up in steps', () => {
    expect(isos(dueInstants('hourly', at('2026-05-04T00:00:00Z'), at('2026-05-06T00:00:00Z'), 2))).toEqual(['2026-05-04T01:00:00.000Z', '2026-05-04T02:00:00.000Z']);
  });
});
