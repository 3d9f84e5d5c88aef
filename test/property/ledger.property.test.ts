import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Pool } from 'pg';
import * as ledger from '../../db/ledger';
import { createCampaign } from '../../db/campaigns';
import { createPool } from '../../db/pool';
import { BusinessError } from '../../domain/errors';
import { addMember, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Random sequences of ledger operations, some run concurrently, checked against an independent model
 * after every sequence: each member's available, held, staked and debt, and a clean integrity report.
 *
 * The model knows the consumption order (promotional before paid: every lot here has the same priority,
 * and only campaign grants, which are promotional, expire), so it predicts each sequential operation's
 * success or failure exactly. For a concurrent batch the outcome depends on the order the database
 * chose: the model applies the changes that succeeded (sums do not depend on order), requires every
 * failure to be INSUFFICIENT_FUNDS, and takes the resulting paid/promotional split from the database
 * before going on.
 */
const MEMBERS = 3;

interface MemberModel {
  paid: bigint;
  promo: bigint;
  staked: bigint;
  debt: bigint;
}
interface HoldModel {
  id: string;
  member: number;
  paid: bigint;
  promo: bigint;
}
interface Model {
  members: MemberModel[];
  holds: HoldModel[];
  positions: Array<{ id: string; member: number; amount: bigint }>;
  purchases: Array<{ member: number; sourceId: string; amount: bigint }>;
}

type Command =
  | { kind: 'mint'; member: number; amount: bigint; promo: boolean }
  | { kind: 'transfer'; from: number; to: number; amount: bigint }
  | { kind: 'redeem'; member: number; amount: bigint }
  | { kind: 'burn'; member: number; amount: bigint }
  | { kind: 'reserve'; member: number; amount: bigint }
  | { kind: 'finalize'; hold: number; fraction: number }
  | { kind: 'release'; hold: number }
  | { kind: 'stake'; member: number; amount: bigint }
  | { kind: 'unstake'; position: number }
  | { kind: 'refund'; purchase: number }
  | { kind: 'grant'; members: number[]; amount: bigint }
  | { kind: 'replay' }
  | { kind: 'parallel'; batch: Array<Extract<Command, { kind: 'mint' | 'transfer' | 'redeem' }>> };

const member = fc.integer({ min: 0, max: MEMBERS - 1 });
const amount = fc.bigInt({ min: 1n, max: 30_000_000n });
const mintCmd = fc.record({ kind: fc.constant('mint' as const), member, amount, promo: fc.boolean() });
const transferCmd = fc
  .record({ kind: fc.constant('transfer' as const), from: member, to: member, amount })
  .filter((c) => c.from !== c.to);
const redeemCmd = fc.record({ kind: fc.constant('redeem' as const), member, amount });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: mintCmd },
  { weight: 4, arbitrary: transferCmd },
  { weight: 3, arbitrary: redeemCmd },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burn' as const), member, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reserve' as const), member, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('finalize' as const), hold: fc.nat(), fraction: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), hold: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stake' as const), member, amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unstake' as const), position: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), purchase: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const), members: fc.subarray([0, 1, 2], { minLength: 1 }), amount: fc.bigInt({ min: 1n, max: 20_000_000n }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'replay' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('parallel' as const), batch: fc.array(fc.oneof(mintCmd, transferCmd, redeemCmd), { minLength: 2, maxLength: 8 }) }) },
);

const available = (m: MemberModel) => m.paid + m.promo;
/** Takes `amount` in consumption order: promotional first, then paid. */
function take(m: { paid: bigint; promo: bigint }, amount: bigint): { paid: bigint; promo: bigint } {
  const promo = m.promo < amount ? m.promo : amount;
  const paid = amount - promo;
  m.promo -= promo;
  m.paid -= paid;
  return { paid, promo };
}

let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 12 });
});
afterAll(() => pool.end());

async function outcome(p: Promise<unknown>): Promise<'ok' | 'INSUFFICIENT_FUNDS' | 'CONFLICT'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof BusinessError && (err.code === 'INSUFFICIENT_FUNDS' || err.code === 'CONFLICT')) return err.code;
    throw err;
  }
}

async function run(commands: Command[]): Promise<void> {
  const coop = await provisionCooperative(pool);
  const ids: string[] = [];
  for (let i = 0; i < MEMBERS; i++) ids.push(await addMember(pool, coop));
  const model: Model = { members: ids.map(() => ({ paid: 0n, promo: 0n, staked: 0n, debt: 0n })), holds: [], positions: [], purchases: [] };
  // One campaign per sequence: its grants are promotional lots that expire, so they are spent first of all.
  const campaign = { budget: 100_000_000n, perWalletCap: 20_000_000n, granted: new Map<number, bigint>() };
  const campaignId = (await createCampaign(pool, { id: randomUUID(), cooperativeId: coop, name: 'Property', budget: campaign.budget, perWalletCap: campaign.perWalletCap, grantExpiryDays: 30, createdBy: 'test', idempotencyKey: 'campaign' })).campaign.id;
  const done: Array<() => Promise<unknown>> = [];
  let n = 0;
  const key = () => `k-${n++}`;

  const start = (c: Extract<Command, { kind: 'mint' | 'transfer' | 'redeem' }>) => {
    const k = key();
    if (c.kind === 'mint') {
      const sourceId = `src-${k}`;
      return { k, sourceId, p: () => ledger.mint(pool, { cooperativeId: coop, memberId: ids[c.member]!, amount: c.amount, source: c.promo ? 'grant' : 'purchase', sourceId, idempotencyKey: k }) };
    }
    if (c.kind === 'transfer') return { k, sourceId: '', p: () => ledger.transfer(pool, { cooperativeId: coop, fromMemberId: ids[c.from]!, toMemberId: ids[c.to]!, amount: c.amount, idempotencyKey: k }) };
    const usageAt = new Date(); // part of the request: a replay must send the same one
    return { k, sourceId: '', p: () => ledger.redeemUsage(pool, { cooperativeId: coop, memberId: ids[c.member]!, primitive: 'compute_hours', quantity: c.amount, usageAt, idempotencyKey: k }) };
  };

  for (const c of commands) {
    switch (c.kind) {
      case 'mint': {
        const s = start(c);
        expect(await outcome(s.p())).toBe('ok');
        const m = model.members[c.member]!;
        if (c.promo) m.promo += c.amount;
        else {
          m.paid += c.amount;
          model.purchases.push({ member: c.member, sourceId: s.sourceId, amount: c.amount });
        }
        done.push(s.p);
        break;
      }
      case 'transfer':
      case 'redeem':
      case 'burn': {
        const from = model.members[c.kind === 'transfer' ? c.from : c.member]!;
        const expected = available(from) >= c.amount ? 'ok' : 'INSUFFICIENT_FUNDS';
        const k = key();
        const p =
          c.kind === 'burn'
            ? () => ledger.burn(pool, { cooperativeId: coop, memberId: ids[c.member]!, amount: c.amount, reason: 'test', idempotencyKey: k })
            : start(c).p;
        expect(await outcome(p())).toBe(expected);
        if (expected === 'ok') {
          const moved = take(from, c.amount);
          if (c.kind === 'transfer') {
            model.members[c.to]!.paid += moved.paid;
            model.members[c.to]!.promo += moved.promo;
          }
          done.push(p);
        }
        break;
      }
      case 'reserve': {
        const m = model.members[c.member]!;
        const expected = available(m) >= c.amount ? 'ok' : 'INSUFFICIENT_FUNDS';
        let holdId = '';
        const k = key();
        const result = await outcome(
          ledger.reserveHold(pool, { cooperativeId: coop, memberId: ids[c.member]!, amount: c.amount, ttlSeconds: 3600, idempotencyKey: k }).then((r) => {
            holdId = r.hold.id;
          }),
        );
        expect(result).toBe(expected);
        if (result === 'ok') model.holds.push({ id: holdId, member: c.member, ...take(m, c.amount) });
        break;
      }
      case 'finalize':
      case 'release': {
        if (model.holds.length === 0) break;
        const [h] = model.holds.splice(c.hold % model.holds.length, 1);
        const m = model.members[h!.member]!;
        const total = h!.paid + h!.promo;
        const charge = c.kind === 'finalize' ? (total * BigInt(c.fraction)) / 100n : 0n;
        await ledger.resolveHold(pool, coop, h!.id, c.kind === 'finalize' ? { kind: 'finalize', amount: charge } : { kind: 'release' });
        take(h!, charge); // consumed from the held lots in consumption order
        m.paid += h!.paid;
        m.promo += h!.promo;
        break;
      }
      case 'stake': {
        const m = model.members[c.member]!;
        const expected = m.paid >= c.amount ? 'ok' : 'INSUFFICIENT_FUNDS';
        const positionId = randomUUID();
        // Staked a term ago: unlocked by the time the sequence unstakes it.
        const stakedAt = new Date(Date.now() - 30 * 86_400_000);
        expect(await outcome(ledger.stake(pool, { cooperativeId: coop, memberId: ids[c.member]!, positionId, amount: c.amount, termDays: 30, stakedAt, idempotencyKey: key() }))).toBe(expected);
        if (expected === 'ok') {
          m.paid -= c.amount;
          m.staked += c.amount;
          model.positions.push({ id: positionId, member: c.member, amount: c.amount });
        }
        break;
      }
      case 'unstake': {
        if (model.positions.length === 0) break;
        const [pos] = model.positions.splice(c.position % model.positions.length, 1);
        await ledger.unstake(pool, { cooperativeId: coop, positionId: pos!.id, at: new Date(), releasedBy: 'member' });
        model.members[pos!.member]!.staked -= pos!.amount;
        model.members[pos!.member]!.paid += pos!.amount;
        break;
      }
      case 'refund': {
        if (model.purchases.length === 0) break;
        const [purchase] = model.purchases.splice(c.purchase % model.purchases.length, 1);
        const m = model.members[purchase!.member]!;
        await ledger.refundClawback(pool, { cooperativeId: coop, memberId: ids[purchase!.member]!, amount: purchase!.amount, paymentSourceId: purchase!.sourceId, idempotencyKey: key() });
        const clawed = m.paid < purchase!.amount ? m.paid : purchase!.amount;
        m.paid -= clawed;
        m.debt += purchase!.amount - clawed;
        break;
      }
      case 'grant': {
        const changed = c.members.some((i) => campaign.granted.has(i) && campaign.granted.get(i) !== c.amount);
        const fresh = c.members.filter((i) => !campaign.granted.has(i));
        const left = campaign.budget - [...campaign.granted.values()].reduce((a, v) => a + v, 0n);
        const expected = changed ? 'CONFLICT' : BigInt(fresh.length) * c.amount > left ? 'INSUFFICIENT_FUNDS' : 'ok';
        const grants = c.members.map((i) => ({ memberId: ids[i]!, amount: c.amount }));
        expect(await outcome(ledger.grantBatch(pool, { cooperativeId: coop, campaignId, grants, actor: 'test', idempotencyKey: key() }))).toBe(expected);
        if (expected === 'ok') {
          for (const i of fresh) {
            campaign.granted.set(i, c.amount);
            model.members[i]!.promo += c.amount;
          }
        }
        break;
      }
      case 'replay': {
        // Any earlier successful operation, sent again with its key: the first result, no change.
        const again = done[n % Math.max(done.length, 1)];
        if (again) expect(await again()).toMatchObject({ replayed: true });
        break;
      }
      case 'parallel': {
        const started = c.batch.map((b) => ({ b, s: start(b) }));
        const results = await Promise.all(started.map(({ s }) => outcome(s.p())));
        results.forEach((r, i) => {
          const { b, s } = started[i]!;
          if (r !== 'ok') {
            expect(b.kind).not.toBe('mint');
            return;
          }
          done.push(s.p);
          if (b.kind === 'mint') {
            if (b.promo) model.members[b.member]!.promo += b.amount;
            else {
              model.members[b.member]!.paid += b.amount;
              model.purchases.push({ member: b.member, sourceId: s.sourceId, amount: b.amount });
            }
          } else {
            const from = model.members[b.kind === 'transfer' ? b.from : b.member]!;
            from.paid -= b.amount; // totals only: the split is read back below
            if (b.kind === 'transfer') model.members[b.to]!.paid += b.amount;
          }
        });
        for (let i = 0; i < MEMBERS; i++) {
          const m = model.members[i]!;
          expect(available(m)).toBeGreaterThanOrEqual(0n); // no double spend: the successes fit
          const { rows } = await pool.query(
            `SELECT COALESCE(sum(available) FILTER (WHERE category = 'promotional'), 0)::text AS promo FROM lots WHERE member_id = $1`,
            [ids[i]],
          );
          const promo = BigInt(rows[0].promo);
          const total = available(m);
          m.promo = promo;
          m.paid = total - promo;
        }
        break;
      }
    }
  }

  for (let i = 0; i < MEMBERS; i++) {
    const m = model.members[i]!;
    const held = model.holds.filter((h) => h.member === i).reduce((a, h) => a + h.paid + h.promo, 0n);
    const balance = await ledger.memberBalance(pool, coop, ids[i]!);
    expect({ member: i, available: balance.available, held: balance.held, staked: balance.staked, debt: balance.debt }).toEqual({
      member: i, available: available(m), held, staked: m.staked, debt: m.debt,
    });
  }
  const report = await ledger.integrityReport(pool, coop);
  expect(report.findings).toEqual([]);
}

describe('ledger properties', () => {
  it('keeps every balance equal to an independent model and the integrity report clean', async () => {
    // endOnFailure: report the first counterexample as found; shrinking 40-step database runs takes minutes.
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), run), { numRuns: 100, endOnFailure: true });
  }, 240_000);
});
