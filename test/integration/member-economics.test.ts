import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createCampaign } from '../../db/campaigns';
import { proposeCorrection } from '../../db/corrections';
import * as ledger from '../../db/ledger';
import { createPool } from '../../db/pool';
import { findPosition } from '../../db/staking-positions';
import { BusinessError } from '../../domain/errors';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Member economics in the database: releases that race, the lock the database itself keeps, the
 * stakers' share across terms to the µCLOUD, batch grants racing for one budget, four eyes, and the
 * integrity checks that watch them.
 */
const DAY = 86_400_000;
let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 10 });
});
afterAll(() => pool.end());

/** The code a refusal carries, whether the operation throws at once or rejects. */
async function code(run: Promise<unknown> | (() => Promise<unknown>)): Promise<string | undefined> {
  try {
    await (typeof run === 'function' ? run() : run);
    return undefined;
  } catch (e) {
    if (e instanceof BusinessError) return e.code;
    throw e;
  }
}

describe('member economics in the ledger', () => {
  let coop: string;
  let members: string[];
  beforeEach(async () => {
    coop = await provisionCooperative(pool);
    members = await Promise.all([0, 1, 2, 3].map(() => addMember(pool, coop)));
  });
  const buy = (member: string, amount: number) =>
    ledger.mint(pool, { cooperativeId: coop, memberId: member, amount: cloud(amount), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `buy-${randomUUID()}` });
  const stake = async (member: string, amount: number, termDays: number, stakedAt: Date) =>
    (await ledger.stake(pool, { cooperativeId: coop, memberId: member, positionId: randomUUID(), amount: cloud(amount), termDays, stakedAt, idempotencyKey: randomUUID() })).positionId;
  const clean = async () => expect((await ledger.integrityReport(pool, coop)).findings).toEqual([]);

  it('releases a position once when the member and the auto-release race, whoever comes second replaying the first', async () => {
    await buy(members[0]!, 10);
    const positionId = await stake(members[0]!, 10, 30, new Date(Date.now() - 31 * DAY));
    const at = new Date();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ledger.unstake(pool, { cooperativeId: coop, positionId, at, releasedBy: i % 2 ? 'member' : 'auto_release' })),
    );
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await ledger.memberBalance(pool, coop, members[0]!)).toMatchObject({ wallet: cloud(10), staked: 0n });
    await clean();
  });

  it('keeps the lock in the database too: no release before the unlock instant without an early exit its term allows', async () => {
    await buy(members[0]!, 10);
    const stakedAt = new Date(Date.now() - DAY);
    const positionId = await stake(members[0]!, 10, 30, stakedAt);
    const unlocksAt = new Date(stakedAt.getTime() + 30 * DAY);
    expect(await code(ledger.unstake(pool, { cooperativeId: coop, positionId, at: new Date(unlocksAt.getTime() - 1), releasedBy: 'member' }))).toBe('CONFLICT');
    expect(await code(ledger.unstake(pool, { cooperativeId: coop, positionId, at: new Date(), earlyExit: true, releasedBy: 'member' }))).toBe('CONFLICT');
    // Bypassing the application: the application role marking the position released before its unlock instant.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${coop}'`);
      const stakeTx = (await client.query('SELECT stake_transaction FROM staking_positions WHERE id = $1', [positionId])).rows[0].stake_transaction;
      await expect(
        client.query(`UPDATE staking_positions SET status = 'released', unstake_transaction = $2, released_at = now(), release_kind = 'unlocked' WHERE id = $1`, [positionId, stakeTx]),
      ).rejects.toMatchObject({ constraint: 'staking_position_locked' });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect((await findPosition(pool, coop, positionId))!.status).toBe('active');
    await clean();
  });

  it("pays the stakers' share pro rata to amount × multiplier × time across terms, to the µCLOUD, recorded per position, once", async () => {
    const [a, b, c, payer] = members as [string, string, string, string];
    await Promise.all([buy(a, 100), buy(b, 100), buy(c, 200), buy(payer, 1000)]);
    await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: payer, primitive: 'compute_hours', quantity: 500_000_000n, idempotencyKey: 'earned' });
    const from = new Date(Date.now() - 60 * DAY);
    const to = new Date(from.getTime() + 30 * DAY);
    // 30 days at 1.0x for the whole period; 365 days at 2.0x from half-way; 90 days at 1.25x, staked before the period.
    const p30 = await stake(a, 100, 30, from);
    const p365 = await stake(b, 100, 365, new Date(from.getTime() + 15 * DAY));
    const p90 = await stake(c, 200, 90, new Date(from.getTime() - 10 * DAY));
    // Weights 100·1·30 : 100·2·15 : 200·1.25·30 = 2 : 2 : 5; 60% of 90.000001 CLOUD to the stakers is 54.0000006, rounded down for them.
    const req = { cooperativeId: coop, distributionId: 'q1', amount: 90_000_001n, shares: [{ memberId: payer, basisPoints: 4_000 }], stakers: { basisPoints: 6_000, period: { from, to } }, idempotencyKey: 'dist-q1' };
    const { transaction } = await ledger.distributeRevenue(pool, req);
    expect(transaction.metadata).toMatchObject({ remainderTo: 'stakers', stakers: { basisPoints: 6_000, amount: '54.000001', positions: 3 }, shares: [{ memberId: payer, amount: '36' }] });
    const { rows } = await pool.query(`SELECT position_id, basis_points, amount::text, committed_ms::text FROM staking_revenue_shares WHERE transaction_id = $1 ORDER BY position_id`, [transaction.id]);
    const byPosition = Object.fromEntries(rows.map((r) => [r.position_id, [r.basis_points, r.amount, Number(r.committed_ms) / DAY]]));
    // 54.000001 CLOUD split 2:2:5 is 12.0000002 : 12.0000002 : 30.0000005; the largest fraction (the 90-day position's) gets the µCLOUD left.
    expect(byPosition).toEqual({ [p30]: [2222, '12000000', 30], [p365]: [2222, '12000000', 15], [p90]: [5556, '30000001', 30] });
    for (const [id, earned] of [[p30, cloud(12)], [p365, cloud(12)], [p90, 30_000_001n]] as const) expect((await findPosition(pool, coop, id))!.revenueEarned).toBe(earned);
    const paid = await pool.query(`SELECT member_id, original::text FROM lots WHERE source = 'distribution' AND source_id LIKE 'q1:position:%'`);
    expect(new Map(paid.rows.map((r) => [r.member_id, r.original]))).toEqual(new Map([[a, '12000000'], [b, '12000000'], [c, '30000001']]));
    expect((await ledger.distributeRevenue(pool, req)).replayed).toBe(true);
    await clean();

    // A corrected distribution paid nothing in the end.
    await ledger.correct(pool, { cooperativeId: coop, transactionId: transaction.id, reason: 'wrong period', idempotencyKey: 'undo-q1' });
    expect((await findPosition(pool, coop, p90))!.revenueEarned).toBe(0n);
    await clean();
  });

  it('binds the key to what the caller asked for: shares filled in from a rule that changed since replay the first distribution', async () => {
    const [payer, first, second] = members as [string, string, string];
    await buy(payer, 100);
    await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: payer, primitive: 'compute_hours', quantity: 50_000_000n, idempotencyKey: 'earned' });
    const requested = { distributionId: 'by-rule', amount: cloud(1) };
    const req = { cooperativeId: coop, ...requested, shares: [{ memberId: first, basisPoints: 10_000 }], requested, idempotencyKey: 'dist-by-rule' };
    const made = await ledger.distributeRevenue(pool, req);
    const retried = await ledger.distributeRevenue(pool, { ...req, shares: [{ memberId: second, basisPoints: 10_000 }] });
    expect({ replayed: retried.replayed, id: retried.transaction.id }).toEqual({ replayed: true, id: made.transaction.id });
    expect(await code(ledger.distributeRevenue(pool, { ...req, amount: cloud(2), requested: { ...requested, amount: cloud(2) } }))).toBe('IDEMPOTENCY_MISMATCH');
    await clean();
  });

  it('refuses a stakers share with no position in the period, or a period not yet ended, changing nothing', async () => {
    await buy(members[0]!, 100);
    await ledger.redeemUsage(pool, { cooperativeId: coop, memberId: members[0]!, primitive: 'compute_hours', quantity: 50_000_000n, idempotencyKey: 'earned' });
    const period = { from: new Date(Date.now() - 2 * DAY), to: new Date(Date.now() - DAY) };
    const req = { cooperativeId: coop, distributionId: 'none', amount: cloud(1), shares: [], stakers: { basisPoints: 10_000, period }, idempotencyKey: 'dist-none' };
    expect(await code(ledger.distributeRevenue(pool, req))).toBe('CONFLICT');
    expect(await code(() => ledger.distributeRevenue(pool, { ...req, stakers: { basisPoints: 10_000, period: { from: period.from, to: new Date(Date.now() + DAY) } } }))).toBe('VALIDATION_ERROR');
    expect((await pool.query(`SELECT count(*)::int AS n FROM transactions WHERE cooperative_id = $1 AND type = 'revenue_distribution'`, [coop])).rows[0].n).toBe(0);
  });

  it('lets two batches race for one budget: one is granted whole, the other refused whole', async () => {
    const { campaign } = await createCampaign(pool, { id: randomUUID(), cooperativeId: coop, name: 'Race', budget: cloud(5), perWalletCap: cloud(3), grantExpiryDays: 30, createdBy: 'admin', idempotencyKey: 'race' });
    const batches = [
      [{ memberId: members[0]!, amount: cloud(3) }, { memberId: members[1]!, amount: cloud(1) }],
      [{ memberId: members[2]!, amount: cloud(3) }, { memberId: members[3]!, amount: cloud(1) }],
    ];
    const outcomes = await Promise.all(batches.map((grants) => code(ledger.grantBatch(pool, { cooperativeId: coop, campaignId: campaign.id, grants, actor: 'admin', idempotencyKey: randomUUID() }))));
    expect(outcomes.sort()).toEqual(['INSUFFICIENT_FUNDS', undefined].sort());
    const { rows } = await pool.query(`SELECT granted::text, (SELECT count(*)::int FROM campaign_grants WHERE campaign_id = $1) AS grants FROM campaigns WHERE id = $1`, [campaign.id]);
    expect(rows[0]).toEqual({ granted: '4000000', grants: 2 });
    await clean();
    // The database refuses a budget passed by any other path, and the integrity check sees a total that does not add up.
    await expect(pool.query('UPDATE campaigns SET granted = budget + 1 WHERE id = $1', [campaign.id])).rejects.toMatchObject({ constraint: 'campaign_within_budget' });
    await pool.query('UPDATE campaigns SET granted = granted + 1 WHERE id = $1', [campaign.id]);
    const report = await ledger.integrityReport(pool, coop);
    expect(report.findings).toEqual([{ check: 'campaign_granted_within_budget', cooperativeId: coop, subject: campaign.id, detail: 'budget 5000000, granted 4000001, grants sum to 4000000' }]);
    await pool.query('UPDATE campaigns SET granted = granted - 1 WHERE id = $1', [campaign.id]);
  });

  it('applies a correction once when it is applied eight times at once (found: the twins, having probed the key before the lock, were refused instead of replaying)', async () => {
    await buy(members[0]!, 10);
    const sent = await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: members[0]!, toMemberId: members[1]!, amount: cloud(3), idempotencyKey: 't' });
    const { correction } = await proposeCorrection(pool, { id: randomUUID(), cooperativeId: coop, transactionId: sent.transaction.id, reason: 'wrong member', proposedBy: 'op-ana', threshold: cloud(100), idempotencyKey: 'c' });
    const results = await Promise.all(Array.from({ length: 8 }, () => ledger.applyCorrection(pool, coop, correction.id, null)));
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await ledger.memberBalance(pool, coop, members[1]!)).available).toBe(0n);
    await clean();
  });

  it('grants a batch of 1,000 members in one transaction, one promotional lot each', async () => {
    const many = [...members];
    for (let i = many.length; i < 1000; i++) many.push(await addMember(pool, coop));
    const { campaign } = await createCampaign(pool, { id: randomUUID(), cooperativeId: coop, name: 'Everyone', budget: cloud(1000), perWalletCap: cloud(1), grantExpiryDays: 90, createdBy: 'admin', idempotencyKey: 'everyone' });
    const result = await ledger.grantBatch(pool, { cooperativeId: coop, campaignId: campaign.id, grants: many.map((memberId) => ({ memberId, amount: cloud(1) })), actor: 'admin', idempotencyKey: 'all' });
    expect({ created: result.created, grants: result.grants.length, type: result.transaction?.type }).toEqual({ created: 1000, grants: 1000, type: 'mint' });
    const lots = await pool.query(`SELECT count(DISTINCT member_id)::int AS members, sum(original)::text AS total FROM lots WHERE category = 'promotional' AND source_id LIKE $1`, [`campaign:${campaign.id}:%`]);
    expect(lots.rows[0]).toEqual({ members: 1000, total: '1000000000' });
    await clean();
  }, 120_000);

  it('refuses a correction above the threshold approved by its own proposer, in the database too', async () => {
    await buy(members[0]!, 200);
    const sent = await ledger.transfer(pool, { cooperativeId: coop, fromMemberId: members[0]!, toMemberId: members[1]!, amount: cloud(150), idempotencyKey: 't' });
    const { correction } = await proposeCorrection(pool, { id: randomUUID(), cooperativeId: coop, transactionId: sent.transaction.id, reason: 'twice', proposedBy: 'op-ana', threshold: cloud(100), idempotencyKey: 'c' });
    expect(correction).toMatchObject({ requiresApproval: true, status: 'proposed', amount: cloud(150) });
    expect(await code(ledger.applyCorrection(pool, coop, correction.id, 'op-ana'))).toBe('FORBIDDEN');
    expect((await ledger.memberBalance(pool, coop, members[1]!)).available).toBe(cloud(150));
    const applied = await ledger.applyCorrection(pool, coop, correction.id, 'op-ben');
    expect(applied.transaction).toMatchObject({ type: 'correction', reversesTransactionId: sent.transaction.id, metadata: { correctionId: correction.id, proposedBy: 'op-ana', approvedBy: 'op-ben' } });
    expect((await ledger.memberBalance(pool, coop, members[1]!)).available).toBe(0n);
    await clean();
  });
});
