import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import * as ledger from '../../db/ledger';
import { settlement, settlementWorkflowId } from '../../workflows/settlement';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

/**
 * Settlement between two cooperatives' ledgers (decision 0022) in virtual time: both sides or neither.
 * The payee's side is made to fail for exchanges named `payee-down:…`, beyond its retries (minutes of
 * virtual time), so the payer's side is compensated.
 */
describe('settlement between ledgers', () => {
  let stack: TimeSkippingStack;
  let payer: string;
  let payee: string;
  let member: string;

  beforeAll(async () => {
    stack = await startTimeSkippingStack({
      activityOverrides: (real) => ({
        settleIn: async (req) => {
          if (req.exchangeId.startsWith('payee-down:')) throw new Error('the payee ledger is unreachable');
          return real.settleIn(req);
        },
      }),
    });
    [payer, payee] = await Promise.all([provisionCooperative(stack.pool), provisionCooperative(stack.pool)]);
    member = await addMember(stack.pool, payer);
    await ledger.mint(stack.pool, { cooperativeId: payer, memberId: member, amount: cloud(20), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: `set-${randomUUID()}` });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const run = (exchangeId: string, amount: bigint) =>
    stack.client.workflow.execute(settlement, {
      taskQueue: stack.taskQueue, workflowId: settlementWorkflowId(exchangeId),
      args: [{ exchangeId, payerCooperativeId: payer, payerMemberId: member, payeeCooperativeId: payee, amount }],
    });
  const sides = async (exchangeId: string) =>
    (await stack.pool.query(`SELECT cooperative_id, type, metadata FROM transactions WHERE metadata->>'exchangeId' = $1 OR metadata->>'reverses' IN (SELECT id::text FROM transactions WHERE metadata->>'exchangeId' = $1) ORDER BY created_at`, [exchangeId])).rows;
  const wallet = async () => (await ledger.memberBalance(stack.pool, payer, member)).available;
  const clearingClean = async () => (await ledger.integrityReport(stack.pool, undefined, { checks: ['clearing_nets_to_zero'], asOf: new Date(Date.now() + 86_400_000) })).findings;

  it('posts both sides once, each balanced in its own books, idempotent by exchange', async () => {
    const exchangeId = `ok:${randomUUID()}`;
    const before = await wallet();
    const result = await run(exchangeId, cloud(3));
    expect(result).toEqual({ outTransaction: expect.any(String), inTransaction: expect.any(String) });
    // The same exchange again posts nothing new.
    const again = await ledger.settleOut(stack.pool, { exchangeId, payerCooperativeId: payer, payerMemberId: member, payeeCooperativeId: payee, amount: cloud(3) });
    expect(again).toMatchObject({ replayed: true, transaction: { id: result.outTransaction } });
    expect((await sides(exchangeId)).map((t) => [t.cooperative_id, t.metadata.side])).toEqual([[payer, 'out'], [payee, 'in']]);
    expect(await wallet()).toBe(before - cloud(3));
    expect(await clearingClean()).toEqual([]);
  });

  it("reverses the payer's side when the payee's fails for good, so neither remains", async () => {
    const exchangeId = `payee-down:${randomUUID()}`;
    const before = await wallet();
    await expect(run(exchangeId, cloud(4))).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await sides(exchangeId)).map((t) => [t.cooperative_id, t.type])).toEqual([[payer, 'settlement'], [payer, 'correction']]);
    expect(await wallet()).toBe(before);
    expect(await clearingClean()).toEqual([]);
  });

  it('moves nothing when the payer lacks the credits', async () => {
    const exchangeId = `poor:${randomUUID()}`;
    await expect(run(exchangeId, cloud(1000))).rejects.toMatchObject({ cause: { cause: { type: 'INSUFFICIENT_FUNDS' } } });
    expect(await sides(exchangeId)).toEqual([]);
  });
});
