import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { asActivity } from '../../activities/business-failure';
import * as ledger from '../../db/ledger';
import { BusinessError } from '../../domain/errors';
import { settlement, settlementWorkflowId } from '../../workflows/settlement';
import { addMember, cloud, provisionCooperative } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

/** Attempts of the payee's side that fail for `payee-flaky:…` exchanges: more than the 8 it once had before compensation. */
const FLAKY_ATTEMPTS = 12;

/**
 * Settlement between two cooperatives' ledgers (decision 0022) in virtual time: both sides or neither.
 * The payee's side is refused by a business rule for exchanges named `payee-refuses:…`, so the payer's
 * side is compensated. For `payee-flaky:…` its first attempt commits but its result is lost, and the
 * next ones find the database down, for minutes of virtual time: it must be retried, not compensated.
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
          if (req.exchangeId.startsWith('payee-refuses:')) return asActivity(() => Promise.reject(new BusinessError('NOT_FOUND', "the payee's income account is gone")));
          if (req.exchangeId.startsWith('payee-flaky:')) {
            const { attempt } = Context.current().info;
            if (attempt === 1) {
              await real.settleIn(req);
              throw new Error('connection lost after COMMIT');
            }
            if (attempt <= FLAKY_ATTEMPTS) throw new Error('the payee ledger is unreachable');
          }
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
    (await stack.pool.query(`SELECT id, cooperative_id, type, metadata FROM transactions WHERE metadata->>'exchangeId' = $1 OR metadata->>'reverses' IN (SELECT id::text FROM transactions WHERE metadata->>'exchangeId' = $1) ORDER BY created_at`, [exchangeId])).rows;
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

  it("reverses the payer's side when a business rule refuses the payee's, so neither remains", async () => {
    const exchangeId = `payee-refuses:${randomUUID()}`;
    const before = await wallet();
    const failed = await run(exchangeId, cloud(4)).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(failed).toMatchObject({ cause: { type: 'NOT_FOUND' } });
    expect((await sides(exchangeId)).map((t) => [t.cooperative_id, t.type])).toEqual([[payer, 'settlement'], [payer, 'correction']]);
    expect(await wallet()).toBe(before);
    expect(await clearingClean()).toEqual([]);
  });

  it("retries the payee's side past any transient failure, a lost commit included, and never reverses the payer's", async () => {
    const exchangeId = `payee-flaky:${randomUUID()}`;
    const before = await wallet();
    const result = await run(exchangeId, cloud(5));
    // The first attempt's transaction, replayed by its key: one side each, no correction.
    expect((await sides(exchangeId)).map((t) => [t.cooperative_id, t.type, t.metadata.side])).toEqual([[payer, 'settlement', 'out'], [payee, 'settlement', 'in']]);
    const attempts = (await stack.client.workflow.getHandle(settlementWorkflowId(exchangeId)).fetchHistory()).events!.filter((e) => e.activityTaskStartedEventAttributes);
    expect(attempts.at(-1)!.activityTaskStartedEventAttributes!.attempt).toBe(FLAKY_ATTEMPTS + 1);
    expect(result.inTransaction).toBe((await sides(exchangeId))[1].id);
    expect(await wallet()).toBe(before - cloud(5));
    expect(await clearingClean()).toEqual([]);
  });

  it('moves nothing when the payer lacks the credits', async () => {
    const exchangeId = `poor:${randomUUID()}`;
    await expect(run(exchangeId, cloud(1000))).rejects.toMatchObject({ cause: { cause: { type: 'INSUFFICIENT_FUNDS' } } });
    expect(await sides(exchangeId)).toEqual([]);
  });
});
