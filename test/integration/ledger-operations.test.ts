import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import * as ledger from '../../db/ledger';
import { createPool } from '../../db/pool';
import { BusinessError } from '../../domain/errors';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 10 });
});
afterAll(() => pool.end());

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof BusinessError) return e.code;
    throw e;
  }
}

async function expectClean(cooperativeId: string) {
  const report = await ledger.integrityReport(pool, cooperativeId);
  expect(report.findings).toEqual([]);
}

describe('ledger operations', () => {
  let coop: string;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    coop = await provisionCooperative(pool);
    [alice, bob] = await Promise.all([addMember(pool, coop), addMember(pool, coop)]);
  });

  it('mints a purchase as two balanced legs and a paid lot', async () => {
    const { transaction } = await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(12.5), source: 'purchase', sourceId: 'pi_1', idempotencyKey: 'mint-1' });
    expect(transaction.type).toBe('mint');
    const byCode = Object.fromEntries(transaction.entries.map((e) => [e.accountCode, e.amount]));
    expect(byCode).toEqual({ '1900': cloud(12.5), '2100': -cloud(12.5), '1110': 125_000_000n, '2220': -125_000_000n });
    const balance = await ledger.memberBalance(pool, coop, alice);
    expect(balance).toMatchObject({ available: cloud(12.5), held: 0n, wallet: cloud(12.5), staked: 0n, debt: 0n });
    expect(balance.lots).toHaveLength(1);
    expect(balance.lots[0]).toMatchObject({ source: 'purchase', sourceId: 'pi_1', category: 'paid' });
    await expectClean(coop);
  });

  it('replays a key with the first result and refuses it for another request', async () => {
    const req = { cooperativeId: coop, memberId: alice, amount: cloud(5), source: 'grant' as const, sourceId: 'g-1', idempotencyKey: 'k-1' };
    const first = await ledger.mint(pool, req);
    const again = await ledger.mint(pool, req);
    expect(again.replayed).toBe(true);
    expect(again.transaction).toEqual(first.transaction);
    expect(await code(ledger.mint(pool, { ...req, amount: cloud(6) }))).toBe('IDEMPOTENCY_MISMATCH');
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(5));
    // The same source under another key is refused: one payment mints once.
    expect(await code(ledger.mint(pool, { ...req, idempotencyKey: 'k-2' }))).toBe('CONFLICT');
  });

  it('transfers in consumption order and the receiver keeps the sender lots expiry', async () => {
    const soon = new Date(Date.now() + 86_400_000);
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(3), source: 'purchase', sourceId: 'paid-late', idempotencyKey: 'a' });
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(2), source: 'grant', sourceId: 'promo-soon', expiresAt: soon, idempotencyKey: 'b' });
    await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: cloud(3), idempotencyKey: 't' });
    const bobBalance = await ledger.memberBalance(pool, coop, bob);
    expect(bobBalance.available).toBe(cloud(3));
    const promo = bobBalance.lots.find((l) => l.category === 'promotional');
    expect(promo).toMatchObject({ available: cloud(2), expiresAt: soon.toISOString(), source: 'transfer_in' });
    expect(bobBalance.lots.find((l) => l.category === 'paid')).toMatchObject({ available: cloud(1), expiresAt: null });
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(2));
    expect(await code(ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: cloud(2.000001), idempotencyKey: 't2' }))).toBe('INSUFFICIENT_FUNDS');
    await expectClean(coop);
  });

  it('adds received credits to the receiver\'s open lot of the same kind, so transfers do not fragment a wallet', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: 'merge-paid', idempotencyKey: 'mp' });
    const sent = [];
    for (let i = 0; i < 6; i++) sent.push(await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: cloud(1), idempotencyKey: `merge-${i}` }));
    const bobBalance = await ledger.memberBalance(pool, coop, bob);
    expect(bobBalance.lots).toEqual([expect.objectContaining({ source: 'transfer_in', category: 'paid', original: cloud(6), available: cloud(6) })]);
    expect(bobBalance.lotCount).toBe(1);
    // Each transfer's movement into the merged lot is kept: a correction takes back exactly that transfer's credits.
    await ledger.correct(pool, { cooperativeId: coop, transactionId: sent[2]!.transaction.id, reason: 'wrong member', idempotencyKey: 'merge-c' });
    expect((await ledger.memberBalance(pool, coop, bob)).available).toBe(cloud(5));
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(5));
    await expectClean(coop);
  });

  it('spends from a wallet of more lots than the first read takes, still in consumption order', async () => {
    for (let i = 0; i < 130; i++) {
      await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: 10n, source: 'grant', sourceId: `g-${i}`, priority: 100 + (i % 3), idempotencyKey: `g-${i}` });
    }
    // 125 lots of 10 must be consumed: far beyond the first page read, lowest priority number first.
    const { transaction } = await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: 1_250n, idempotencyKey: 'many' });
    expect(transaction.entries.find((e) => e.memberId === bob)?.amount).toBe(-1_250n);
    const left = await ledger.memberBalance(pool, coop, alice);
    expect(left.available).toBe(50n);
    expect(left.lots.every((l) => l.priority === 102)).toBe(true);
    expect(await code(ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: 51n, idempotencyKey: 'too-many' }))).toBe('INSUFFICIENT_FUNDS');
    await expectClean(coop);
  });

  it('never double-spends under many parallel requests on the same wallets', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: 20n, source: 'purchase', sourceId: 'p-race', idempotencyKey: 'race-mint' });
    const carol = await addMember(pool, coop);
    // 60 racing spends of 1 µCLOUD from a wallet holding 20: transfers both ways, redemptions and holds.
    const attempts = Array.from({ length: 60 }, (_, i) => {
      const key = `race-${i}`;
      if (i % 3 === 0) return ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: i % 2 ? bob : carol, amount: 1n, idempotencyKey: key });
      if (i % 3 === 1) return ledger.burn(pool, { cooperativeId: coop, memberId: alice, amount: 1n, reason: 'race', idempotencyKey: key });
      return ledger.reserveHold(pool, { cooperativeId: coop, memberId: alice, amount: 1n, ttlSeconds: 60, idempotencyKey: key });
    });
    const results = await Promise.allSettled(attempts);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected');
    expect(ok).toBe(20);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: 0n });
    await expectClean(coop);
  });

  it('redeems usage at the rate card in force and recognises revenue', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: 'p', idempotencyKey: 'm' });
    const { transaction } = await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: alice, primitive: 'compute_hours', quantity: 2_500_000n, usageAt: new Date(), idempotencyKey: 'u' });
    expect(transaction.metadata).toMatchObject({ primitive: 'compute_hours', quantity: '2.5', rateCardVersion: 1, rate: '1' });
    const byCode = Object.fromEntries(transaction.entries.map((e) => [e.accountCode, e.amount]));
    expect(byCode).toMatchObject({ '2100': cloud(2.5), '1900': -cloud(2.5), '2220': 25_000_000n, '4420': -25_000_000n });
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(7.5));
    await expectClean(coop);
  });

  it('holds: reserve, finalize less than held, release, expire, at most once', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: 'p', idempotencyKey: 'm' });
    const { hold } = await ledger.reserveHold(pool, { cooperativeId: coop, memberId: alice, amount: cloud(4), ttlSeconds: 60, idempotencyKey: 'h1' });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: cloud(6), held: cloud(4), wallet: cloud(10) });
    expect(await code(ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: cloud(7), idempotencyKey: 'x' }))).toBe('INSUFFICIENT_FUNDS');
    const done = await ledger.resolveHold(pool, coop, hold.id, { kind: 'finalize', amount: cloud(1.5) });
    expect(done.hold).toMatchObject({ status: 'finalized', finalAmount: cloud(1.5) });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: cloud(8.5), held: 0n, wallet: cloud(8.5) });
    expect((await ledger.resolveHold(pool, coop, hold.id, { kind: 'finalize', amount: cloud(1.5) })).replayed).toBe(true);
    expect(await code(ledger.resolveHold(pool, coop, hold.id, { kind: 'release' }))).toBe('CONFLICT');

    const short = await ledger.reserveHold(pool, { cooperativeId: coop, memberId: alice, amount: cloud(1), ttlSeconds: 1, idempotencyKey: 'h2' });
    const expired = await ledger.expireDueHolds(pool, coop, new Date(Date.now() + 2_000));
    expect(expired.map((h) => h.id)).toEqual([short.hold.id]);
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(8.5));
    await expectClean(coop);
  });

  it('stakes and unstakes, burns, corrects and expires lots', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: 'p', idempotencyKey: 'm' });
    const positionId = randomUUID();
    // Staked 31 days ago for 30: unlocked now.
    await ledger.stake(pool, { cooperativeId: coop, memberId: alice, positionId, amount: cloud(4), termDays: 30, stakedAt: new Date(Date.now() - 31 * 86_400_000), idempotencyKey: 's' });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: cloud(6), staked: cloud(4) });
    await expectClean(coop);
    const released = await ledger.unstake(pool, { cooperativeId: coop, positionId, at: new Date(), releasedBy: 'member' });
    // Released once: a second release (the auto-release racing the member) replays the first.
    expect(await ledger.unstake(pool, { cooperativeId: coop, positionId, at: new Date(), releasedBy: 'auto_release' })).toEqual({ ...released, replayed: true });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: cloud(10), staked: 0n });

    const sent = await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: alice, toMemberId: bob, amount: cloud(3), idempotencyKey: 't' });
    await ledger.correct(pool, { cooperativeId: coop, transactionId: sent.transaction.id, reason: 'sent to the wrong member', idempotencyKey: 'c' });
    expect((await ledger.memberBalance(pool, coop, bob)).available).toBe(0n);
    expect((await ledger.memberBalance(pool, coop, alice)).available).toBe(cloud(10));
    expect(await code(ledger.correct(pool, { cooperativeId: coop, transactionId: sent.transaction.id, reason: 'again', idempotencyKey: 'c2' }))).toBe('CONFLICT');

    await ledger.burn(pool, { cooperativeId: coop, memberId: alice, amount: cloud(1), reason: 'forfeit', idempotencyKey: 'b' });
    const past = new Date(Date.now() + 1000);
    await ledger.mint(pool, { cooperativeId: coop, memberId: bob, amount: cloud(2), source: 'grant', sourceId: 'g', expiresAt: past, idempotencyKey: 'g' });
    const expiredLots = await ledger.expireDueLots(pool, coop, new Date(Date.now() + 5000));
    expect(expiredLots).toHaveLength(1);
    expect(await ledger.memberBalance(pool, coop, bob)).toMatchObject({ available: 0n, wallet: 0n, expiring: 0n });
    await expectClean(coop);
  });

  it('claws back a refund from available credits and records the rest as debt', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), source: 'purchase', sourceId: 'pi_r', idempotencyKey: 'm' });
    await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: alice, primitive: 'compute_hours', quantity: 6_000_000n, usageAt: new Date(), idempotencyKey: 'u' });
    const { transaction } = await ledger.refundClawback(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), paymentSourceId: 'pi_r', idempotencyKey: 'r' });
    expect(transaction.metadata).toMatchObject({ clawedBack: '4', debt: '6' });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ available: 0n, wallet: 0n, debt: cloud(6) });
    expect((await ledger.refundClawback(pool, { cooperativeId: coop, memberId: alice, amount: cloud(10), paymentSourceId: 'pi_r', idempotencyKey: 'r' })).replayed).toBe(true);
    await expectClean(coop);
  });

  it('claws back paid credits past expiry that the expiry run has not retired, instead of counting them as debt', async () => {
    await ledger.mint(pool, { cooperativeId: coop, memberId: alice, amount: cloud(3), source: 'purchase', sourceId: 'pi_old', expiresAt: new Date(Date.now() - 60_000), idempotencyKey: 'old' });
    const { transaction } = await ledger.refundClawback(pool, { cooperativeId: coop, memberId: alice, amount: cloud(3), paymentSourceId: 'pi_old', idempotencyKey: 'r-old' });
    expect(transaction.metadata).toMatchObject({ clawedBack: '3', debt: '0' });
    expect(await ledger.memberBalance(pool, coop, alice)).toMatchObject({ wallet: 0n, debt: 0n, expiring: 0n });
    await expectClean(coop);
  });

  it('distributes revenue by basis points with the remainder to its stated owner', async () => {
    const carol = await addMember(pool, coop);
    const distribution = {
      cooperativeId: coop, distributionId: 'd-0', amount: 100n, shares: [{ memberId: alice, basisPoints: 10_000 }], idempotencyKey: 'd-0',
    };
    expect(await code(ledger.distributeRevenue(pool, distribution))).toBe('INSUFFICIENT_FUNDS');
    // Earn 1 CLOUD of revenue: carol buys 2 and uses 1.
    await ledger.mint(pool, { cooperativeId: coop, memberId: carol, amount: cloud(2), source: 'purchase', sourceId: 'p', idempotencyKey: 'm' });
    await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: carol, primitive: 'compute_hours', quantity: 1_000_000n, usageAt: new Date(), idempotencyKey: 'u' });
    const { transaction } = await ledger.distributeRevenue(pool, {
      cooperativeId: coop, distributionId: 'd-1', amount: 100n, remainderTo: 2,
      shares: [{ memberId: alice, basisPoints: 3333 }, { memberId: bob, basisPoints: 3333 }, { memberId: carol, basisPoints: 3334 }],
      rule: { ruleId: 'rule-1', version: 3 }, idempotencyKey: 'd',
    });
    expect(transaction.metadata).toMatchObject({ ruleId: 'rule-1', ruleVersion: 3 });
    const [a, b, c] = await Promise.all([alice, bob, carol].map((m) => ledger.memberBalance(pool, coop, m)));
    expect([a!.available, b!.available, c!.available]).toEqual([33n, 33n, cloud(1) + 34n]);
    await expectClean(coop);
  });
});
