import fc from 'fast-check';
import { allocate, compareForConsumption, takeInOrder, type SpendableLot } from '../../domain/lots';

const now = new Date('2026-06-01T00:00:00Z');
const lot = (id: string, over: Partial<SpendableLot> = {}): SpendableLot => ({
  id, priority: 100, expiresAt: null, category: 'paid', createdAt: new Date('2026-01-01T00:00:00Z'), available: 10n, ...over,
});

describe('lot consumption order', () => {
  it('orders by priority, then soonest expiry, then promotional before paid, then oldest', () => {
    const lots = [
      lot('old-paid', { createdAt: new Date('2025-01-01') }),
      lot('new-paid'),
      lot('promo', { category: 'promotional' }),
      lot('expires-later', { expiresAt: new Date('2026-09-01') }),
      lot('expires-soon', { expiresAt: new Date('2026-07-01') }),
      lot('urgent', { priority: 1 }),
    ];
    expect([...lots].sort(compareForConsumption).map((l) => l.id)).toEqual(['urgent', 'expires-soon', 'expires-later', 'promo', 'old-paid', 'new-paid']);
  });

  it('allocates in that order, skipping expired lots, or reports the shortfall', () => {
    const lots = [lot('paid', { available: 5n }), lot('promo', { category: 'promotional', available: 3n }), lot('gone', { expiresAt: new Date('2026-05-01'), available: 100n })];
    expect(allocate(lots, 6n, now)).toEqual({ allocations: [{ lotId: 'promo', amount: 3n }, { lotId: 'paid', amount: 3n }] });
    expect(allocate(lots, 9n, now)).toEqual({ shortfall: 1n });
  });

  it('never takes more than a lot holds and always takes exactly the amount when it can', () => {
    const arbLot = fc.record({
      id: fc.uuid(),
      priority: fc.integer({ min: 0, max: 3 }),
      expiresAt: fc.option(fc.date({ min: new Date('2026-05-01'), max: new Date('2026-08-01'), noInvalidDate: true }), { nil: null }),
      category: fc.constantFrom('paid' as const, 'promotional' as const),
      createdAt: fc.date({ min: new Date('2025-01-01'), max: new Date('2026-05-01'), noInvalidDate: true }),
      available: fc.bigInt({ min: 1n, max: 1000n }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbLot, { selector: (l) => l.id, maxLength: 8 }), fc.bigInt({ min: 1n, max: 5000n }), (lots, amount) => {
        const spendable = lots.filter((l) => l.expiresAt === null || l.expiresAt > now).reduce((a, l) => a + l.available, 0n);
        const result = allocate(lots, amount, now);
        if (spendable >= amount) {
          if (!('allocations' in result)) throw new Error('expected allocations');
          expect(result.allocations.reduce((a, x) => a + x.amount, 0n)).toBe(amount);
          for (const a of result.allocations) expect(a.amount).toBeLessThanOrEqual(lots.find((l) => l.id === a.lotId)!.available);
        } else {
          expect(result).toEqual({ shortfall: amount - spendable });
        }
      }),
    );
  });
});

describe('takeInOrder', () => {
  it('takes in the order given, skips empty lots and reports what is left', () => {
    const lots = [{ id: 'a', available: 3n }, { id: 'e', available: 0n }, { id: 'b', available: 5n }];
    expect(takeInOrder(lots, 4n)).toEqual({ allocations: [{ lotId: 'a', amount: 3n }, { lotId: 'b', amount: 1n }], left: 0n });
    expect(takeInOrder(lots, 10n)).toEqual({ allocations: [{ lotId: 'a', amount: 3n }, { lotId: 'b', amount: 5n }], left: 2n });
  });

  it('never takes more than asked or more than a lot holds', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 20 }), fc.bigInt({ min: 0n, max: 20_000n }), (sizes, amount) => {
        const lots = sizes.map((available, i) => ({ id: String(i), available }));
        const { allocations, left } = takeInOrder(lots, amount);
        const taken = allocations.reduce((sum, a) => sum + a.amount, 0n);
        const held = sizes.reduce((sum, s) => sum + s, 0n);
        expect(taken + left).toBe(amount);
        expect(taken).toBe(amount < held ? amount : held);
        for (const a of allocations) expect(a.amount).toBeLessThanOrEqual(lots[Number(a.lotId)]!.available);
      }),
    );
  });
});
