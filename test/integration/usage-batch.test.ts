import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import * as ledger from '../../db/ledger';
import type { UsageOutcome, UsageRecord } from '../../db/ledger';
import { inTenantTransaction } from '../../db/transaction';
import { createPool } from '../../db/pool';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 10 });
});
afterAll(() => pool.end());

const written = (o: UsageOutcome | undefined) => {
  if (!o || 'error' in o) throw new Error(`expected a transaction, got ${JSON.stringify(o)}`);
  return o;
};
const errorCode = (o: UsageOutcome | undefined) => (o && 'error' in o ? o.error.code : undefined);
const taken = (o: UsageOutcome) => written(o).transaction.entries.find((e) => e.accountCode === '2100')!.amount;
const available = async (coop: string, member: string) => (await ledger.memberBalance(pool, coop, member)).available;

async function expectClean(cooperativeId: string) {
  expect((await ledger.integrityReport(pool, cooperativeId)).findings).toEqual([]);
}

/** Outbox events of a type in the cooperative. */
async function events(cooperativeId: string, type: string): Promise<number> {
  return inTenantTransaction(pool, cooperativeId, async (client) => Number((await client.query('SELECT count(*)::int AS n FROM outbox WHERE event_type = $1', [type])).rows[0].n));
}

describe('batched usage ingestion', () => {
  let coop: string;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    coop = await provisionCooperative(pool);
    [alice, bob] = await Promise.all([addMember(pool, coop), addMember(pool, coop)]);
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(100), source: 'purchase', sourceId: 'pa', idempotencyKey: 'ma' });
    await ledger.mint(pool, { cooperativeId: coop, memberId: bob, amount: cloud(5), source: 'purchase', sourceId: 'pb', idempotencyKey: 'mb' });
    await ledger.mint(pool, { cooperativeId: coop, memberId: bob, amount: cloud(1), source: 'grant', sourceId: 'gb', idempotencyKey: 'gb' });
  });

  it('prices and posts each record exactly as the single route does, one transaction and one event each', async () => {
    const usageAt = new Date(Date.now() - 60_000);
    const single = await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: alice, primitive: 'compute_hours', quantity: 2_500_000n, usageAt, idempotencyKey: 'single' });
    const outcomes = await ledger.redeemUsageBatch(pool, coop, [
      { memberId: alice, primitive: 'compute_hours', quantity: 2_500_000n, usageAt, idempotencyKey: 'b-1' },
      { memberId: bob, primitive: 'compute_hours', quantity: 3_000_000n, idempotencyKey: 'b-2' },
      { memberId: alice, primitive: 'long_term_memory_gb_months', quantity: 1_000_000n, idempotencyKey: 'b-3' },
    ]);
    const first = written(outcomes[0]);
    expect(first.replayed).toBe(false);
    expect(first.transaction.type).toBe('redemption');
    // Same rule, same plan: only ids and keys differ.
    expect(first.transaction.metadata).toEqual(single.transaction.metadata);
    const amounts = (t: typeof first.transaction) => Object.fromEntries(t.entries.map((e) => [e.accountCode, e.amount]));
    expect(amounts(first.transaction)).toEqual(amounts(single.transaction));
    // Bob's promotional credit goes first (consumption order), the rest from his paid lot.
    const bobs = amounts(written(outcomes[1]).transaction);
    expect(bobs['2230']).toBe(cloud(1) * 10n);
    expect(await available(coop, alice)).toBe(cloud(100) - taken(single) - taken(outcomes[0]!) - taken(outcomes[2]!));
    expect(await available(coop, bob)).toBe(cloud(6) - taken(outcomes[1]!));
    expect(await events(coop, 'cloud.redeemed')).toBe(4);
    await expectClean(coop);
  });

  it('replays each record by its own key and refuses a reused key for that record only', async () => {
    const records: UsageRecord[] = [
      { memberId: alice, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'r-1' },
      { memberId: bob, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'r-2' },
    ];
    const first = await ledger.redeemUsageBatch(pool, coop, records);
    const balances = [await available(coop, alice), await available(coop, bob)];
    const again = await ledger.redeemUsageBatch(pool, coop, [
      ...records,
      { memberId: alice, primitive: 'compute_hours', quantity: 2_000_000n, idempotencyKey: 'r-1' }, // same key, another request
      { memberId: alice, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'r-3' },
    ]);
    expect(written(again[0]).replayed).toBe(true);
    expect(written(again[0]).transaction).toEqual(written(first[0]).transaction);
    expect(written(again[1]).transaction.id).toBe(written(first[1]).transaction.id);
    expect(errorCode(again[2])).toBe('IDEMPOTENCY_MISMATCH');
    expect(written(again[3]).replayed).toBe(false);
    expect([await available(coop, alice), await available(coop, bob)]).toEqual([balances[0]! - cloud(1), balances[1]]);
    // A key first used by the single route replays in a batch (and the other way round): one binding.
    const single = await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: bob, primitive: 'transfer_gb', quantity: 1_000_000n, idempotencyKey: 's-1' });
    const [viaBatch] = await ledger.redeemUsageBatch(pool, coop, [{ memberId: bob, primitive: 'transfer_gb', quantity: 1_000_000n, idempotencyKey: 's-1' }]);
    expect(written(viaBatch).replayed).toBe(true);
    expect(written(viaBatch).transaction.id).toBe(single.transaction.id);
    const viaSingle = await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: alice, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'r-3' });
    expect(viaSingle).toMatchObject({ replayed: true, transaction: { id: written(again[3]).transaction.id } });
    await expectClean(coop);
  });

  it('gives a key repeated within one batch its first outcome, and a different body under it a conflict', async () => {
    const rec = { memberId: alice, primitive: 'compute_hours' as const, quantity: 1_000_000n, idempotencyKey: 'dup' };
    const out = await ledger.redeemUsageBatch(pool, coop, [rec, rec, { ...rec, quantity: 5_000_000n }]);
    expect(written(out[0]).replayed).toBe(false);
    expect(written(out[1])).toMatchObject({ replayed: true, transaction: { id: written(out[0]).transaction.id } });
    expect(errorCode(out[2])).toBe('IDEMPOTENCY_MISMATCH');
    expect(await available(coop, alice)).toBe(cloud(99));
  });

  it('refuses bad records one by one and posts the others', async () => {
    const stranger = randomUUID();
    const out = await ledger.redeemUsageBatch(pool, coop, [
      { memberId: bob, primitive: 'compute_hours', quantity: 4_000_000n, idempotencyKey: 'p-1' }, // bob: 6 -> 2
      { memberId: bob, primitive: 'compute_hours', quantity: 3_000_000n, idempotencyKey: 'p-2' }, // 3 > 2: refused
      { memberId: stranger, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'p-3' },
      { memberId: alice, primitive: 'compute_hours', quantity: 1_000_000n, usageAt: new Date(Date.now() + 3_600_000), idempotencyKey: 'p-4' },
      { memberId: alice, primitive: 'compute_hours', quantity: 0n, idempotencyKey: 'p-5' },
      { memberId: bob, primitive: 'compute_hours', quantity: 2_000_000n, idempotencyKey: 'p-6' }, // exactly what is left
      { memberId: alice, primitive: 'compute_hours', quantity: 1_000_000n, idempotencyKey: 'p-7' },
    ]);
    expect(out.map((o) => errorCode(o) ?? 'ok')).toEqual(['ok', 'INSUFFICIENT_FUNDS', 'NOT_FOUND', 'VALIDATION_ERROR', 'VALIDATION_ERROR', 'ok', 'ok']);
    expect(await available(coop, bob)).toBe(0n);
    expect(await available(coop, alice)).toBe(cloud(99));
    // A refused record wrote nothing under its key: sent again once it can succeed, it is new.
    await ledger.mint(pool, { cooperativeId: coop, memberId: bob, amount: cloud(3), source: 'purchase', sourceId: 'pb2', idempotencyKey: 'mb2' });
    const [retried] = await ledger.redeemUsageBatch(pool, coop, [{ memberId: bob, primitive: 'compute_hours', quantity: 3_000_000n, idempotencyKey: 'p-2' }]);
    expect(written(retried).replayed).toBe(false);
    await expectClean(coop);
  });

  it('refuses more than 1,000 records as a whole', async () => {
    const records = Array.from({ length: 1_001 }, (_, i) => ({ memberId: alice, primitive: 'compute_hours' as const, quantity: 1n, idempotencyKey: `big-${i}` }));
    await expect(ledger.redeemUsageBatch(pool, coop, records)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('conserves credits across a full batch of 1,000 records over many lots', async () => {
    const members = [alice, bob, ...(await Promise.all(Array.from({ length: 8 }, () => addMember(pool, coop))))];
    // Many small lots per wallet, more than the first page the batch reads.
    for (const m of members) {
      for (let i = 0; i < 20; i++) await ledger.mint(pool, { cooperativeId: coop, memberId: m, amount: cloud(1), source: 'grant', sourceId: `g-${m}-${i}`, idempotencyKey: `g-${m}-${i}` });
    }
    const before = await Promise.all(members.map((m) => available(coop, m)));
    const records = Array.from({ length: 1_000 }, (_, i) => ({ memberId: members[i % members.length]!, primitive: 'transfer_gb' as const, quantity: BigInt(1_800_000 + i * 997), idempotencyKey: `c-${i}` }));
    const out = await ledger.redeemUsageBatch(pool, coop, records);
    const after = await Promise.all(members.map((m) => available(coop, m)));
    members.forEach((m, i) => {
      const spent = out.filter((o, j) => records[j]!.memberId === m && !('error' in o)).reduce((s, o) => s + taken(o), 0n);
      expect(before[i]! - after[i]!).toBe(spent);
    });
    expect(out.filter((o) => 'error' in o).every((o) => errorCode(o) === 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(await events(coop, 'cloud.redeemed')).toBe(out.filter((o) => !('error' in o)).length);
    await expectClean(coop);
  });

  it('runs beside single redemptions on the same members without losing or double-spending a credit', async () => {
    const members = [alice, bob];
    const total = cloud(106);
    const batches = Array.from({ length: 4 }, (_, b) =>
      ledger.redeemUsageBatch(pool, coop, Array.from({ length: 50 }, (_, i) => ({ memberId: members[i % 2]!, primitive: 'compute_hours' as const, quantity: 300_000n, idempotencyKey: `cb-${b}-${i}` }))),
    );
    const singles = Array.from({ length: 40 }, (_, i) =>
      ledger.redeemUsage(pool, { cooperativeId: coop, memberId: members[i % 2]!, primitive: 'compute_hours', quantity: 300_000n, idempotencyKey: `cs-${i}` }).then(
        (r) => r.transaction.entries.find((e) => e.accountCode === '2100')!.amount,
        (e: { code?: string }) => {
          if (e.code !== 'INSUFFICIENT_FUNDS') throw e;
          return 0n;
        },
      ),
    );
    // The same batch twice at once: one writes, the other replays it.
    const twin = Array.from({ length: 10 }, (_, i) => ({ memberId: alice, primitive: 'compute_hours' as const, quantity: 100_000n, idempotencyKey: `tw-${i}` }));
    const [batchOut, singleOut, twinA, twinB] = await Promise.all([Promise.all(batches), Promise.all(singles), ledger.redeemUsageBatch(pool, coop, twin), ledger.redeemUsageBatch(pool, coop, twin)]);
    expect(twinA.map((o) => written(o).transaction.id)).toEqual(twinB.map((o) => written(o).transaction.id));
    const spent =
      batchOut.flat().reduce((s, o) => s + ('error' in o ? 0n : taken(o)), 0n) + singleOut.reduce((s, a) => s + a, 0n) + twinA.reduce((s, o) => s + taken(o), 0n);
    const left = (await available(coop, alice)) + (await available(coop, bob));
    expect(spent + left).toBe(total);
    await expectClean(coop);
  });
});
