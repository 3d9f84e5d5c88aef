import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import * as ledger from '../../db/ledger';
import { DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS } from '../../domain/dead-letter';
import { deadLetterState, resolveDeadLetter, type DeadLetterState } from '../../workflows/dead-letter';
import { eventually } from '../harness/eventually';
import { purchaseDriver, type Member } from '../harness/purchases';
import { refusedMints } from '../harness/refused-mints';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The dead-letter queue with its production delays (60 s, 300 s, 1,800 s, the configuration's
 * default), in virtual time, fed the way production feeds it: a paid purchase whose mint the ledger
 * refuses hands the mint over. The only fault is that refusal (test/harness/refused-mints.ts);
 * operators act through the real API, and the real worker records everything in PostgreSQL.
 */
describe('dead-letter queue in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  let operator: string;
  let coop: string;
  const faults = refusedMints(() => stack.pool);
  let purchases: ReturnType<typeof purchaseDriver>;

  beforeAll(async () => {
    stack = await startTimeSkippingStack({ api: true, activityOverrides: faults.overrides });
    api = stack.api!;
    expect(stack.config.deadLetter.retryDelaysMs).toEqual([60 * SECOND, 300 * SECOND, 1800 * SECOND]);
    purchases = purchaseDriver(api, stack.config.stripe.webhookSecret, () => stack.pool);
    operator = await api.token({ subject: 'op-ada', role: 'operator' });
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `vdlq-${randomUUID().slice(0, 8)}`, name: 'Dead letters' } });
    expect(created.status).toBe(201);
    coop = created.body.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  const itemOf = async (itemId: string) => (await api.request('GET', `/v1/operations/dlq/${itemId}`, { token: operator })).body;
  const act = (itemId: string, action: 'retry' | 'resolve' | 'discard', body: Record<string, string> = {}) => api.request('POST', `/v1/operations/dlq/${itemId}/${action}`, { token: operator, body });
  const workflowOf = (itemId: string) => stack.client.workflow.getHandle<() => Promise<DeadLetterState>>(`dlq:${itemId}`);

  /** A paid purchase whose mint the ledger refuses: the purchase hands the mint over and waits. */
  async function failedMint(): Promise<{ member: Member; purchaseId: string; paymentIntentId: string; itemId: string; paidAt: number }> {
    const member = await purchases.newMember(coop);
    const purchase = await purchases.buy(member, '3');
    faults.refuse(purchase.id);
    const paidAt = await stack.now();
    await purchases.paid(purchase.paymentIntentId);
    const waiting = await purchases.until(member, purchase.id, ['payment-created', 'mint-failed']);
    expect(waiting.status).toBe('mint_failed');
    return { member, purchaseId: purchase.id, paymentIntentId: purchase.paymentIntentId, itemId: waiting.history[1]!.detail.deadLetterItemId as string, paidAt };
  }

  /** Lets virtual time pass until the item's pending retry is due, and the retry is recorded. */
  async function nextAutomaticRetry(itemId: string, attemptsBefore: number): Promise<void> {
    const due = (await eventually(() => stack.pendingTimer(`dlq:${itemId}`), (t) => t !== undefined))!;
    // A second before it is due, the handler has not run again.
    await stack.sleepUntil(due - SECOND);
    expect(faults.runsOf(itemId)).toHaveLength(attemptsBefore);
    await stack.sleepUntil(due + SECOND);
    await eventually(() => itemOf(itemId), (i) => i.attempts === attemptsBefore + 1);
  }

  it('retries a refused mint after 60 s, 300 s and 1,800 s, then waits for an operator, whose retry after the repair mints once', async () => {
    const { member, purchaseId, paymentIntentId, itemId, paidAt } = await failedMint();
    const handedOver = await itemOf(itemId);
    expect(handedOver).toMatchObject({
      operationType: 'mint_credits', businessKey: `purchase:${purchaseId}:mint`, cooperativeId: coop, status: 'retrying', attempts: 0, workflowId: `dlq:${itemId}`,
      lastError: 'CONFLICT: the ledger refused this mint (injected fault)',
      // The stored payload is the mint's request, its amount a decimal string of µCLOUD.
      payload: expect.objectContaining({ memberId: member.id, amount: '3000000', sourceId: paymentIntentId, idempotencyKey: `purchase:${purchaseId}:mint` }),
    });

    for (const [i, delay] of DEFAULT_DEAD_LETTER_RETRY_DELAYS_MS.entries()) {
      await nextAutomaticRetry(itemId, i);
      // Each retry runs once its delay has passed since the previous failure (the first, since the payment), and not a minute later.
      const runs = faults.runsOf(itemId);
      const since = runs[i]! - (i === 0 ? paidAt : runs[i - 1]!);
      expect(since).toBeGreaterThanOrEqual(delay);
      expect(since).toBeLessThan(delay + MINUTE);
    }
    const review = await eventually(() => itemOf(itemId), (i) => i.status === 'manual_review');
    expect(review.history.map((h: { action: string; to: string; actor: string | null }) => [h.action, h.to, h.actor])).toEqual([
      ['automatic_retry', 'retrying', null],
      ['automatic_retry', 'retrying', null],
      ['automatic_retry', 'manual_review', null],
    ]);
    expect(review.history.every((h: { error: string }) => h.error === 'CONFLICT: the ledger refused this mint (injected fault)')).toBe(true);
    const description = await workflowOf(itemId).describe();
    expect(description.searchAttributes).toMatchObject({ BusinessStatus: ['manual_review'], CooperativeId: [coop] });
    expect(await workflowOf(itemId).query(deadLetterState)).toMatchObject({ status: 'manual_review', attempts: 3 });

    // Manual review waits for an operator, however long: no more automatic retries.
    await stack.sleep(30 * 24 * HOUR);
    expect(faults.runsOf(itemId)).toHaveLength(3);
    expect((await purchases.purchase(member, purchaseId)).status).toBe('mint_failed');
    expect(await purchases.mints(paymentIntentId)).toBe(0);

    // A retry before the repair fails again and the item stays in review with the new attempt recorded.
    const again = await act(itemId, 'retry', { note: 'trying once more' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'manual_review', attempts: 4 });
    expect(again.body.history.at(-1)).toMatchObject({ action: 'retry', actor: 'op-ada', note: 'trying once more', from: 'manual_review', to: 'manual_review', error: expect.stringContaining('refused') });

    faults.repair(purchaseId);
    const retried = await act(itemId, 'retry');
    expect(retried.body).toMatchObject({ status: 'succeeded', attempts: 5 });
    expect(retried.body.history.at(-1)).toMatchObject({ action: 'retry', actor: 'op-ada', note: null, to: 'succeeded', error: null });
    expect(await workflowOf(itemId).result()).toMatchObject({ status: 'succeeded' });

    // The purchase learns of it, takes the queue's mint as its own (a replay under the key), and goes on.
    const minted = await purchases.until(member, purchaseId, ['payment-created', 'mint-failed', 'minted']);
    expect(minted.status).toBe('minted');
    expect(await purchases.mints(paymentIntentId)).toBe(1);
    const { rows } = await stack.pool.query(`SELECT id FROM transactions WHERE type = 'mint' AND metadata->>'sourceId' = $1`, [paymentIntentId]);
    expect(minted.mintTransactionId).toBe(rows[0].id);
    expect((await api.request('GET', `/v1/cooperatives/${coop}/members/${member.id}/balance`, { token: member.token })).body.available).toBe('3');
    expect((await act(itemId, 'retry')).body.error.code).toBe('CONFLICT');
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  });

  it('discards only with a reason, refuses a retry before review, and a discard cancels the retries still pending', async () => {
    const { member, purchaseId, paymentIntentId, itemId } = await failedMint();
    expect((await act(itemId, 'retry')).body.error).toMatchObject({ code: 'CONFLICT', message: 'a retrying item cannot be retried' });
    const noReason = await act(itemId, 'discard', {});
    expect([noReason.status, noReason.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const blank = await act(itemId, 'discard', { reason: '   ' });
    expect([blank.status, blank.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    // The workflow's own validator refuses a missing note too, for callers other than the API.
    const refused = await workflowOf(itemId).executeUpdate(resolveDeadLetter, { args: [{ actor: 'op-ada' }] }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'VALIDATION_ERROR', message: 'resolving an item needs a note' });

    await nextAutomaticRetry(itemId, 0);
    expect((await itemOf(itemId)).history).toHaveLength(1);
    const discarded = await act(itemId, 'discard', { reason: 'payment refunded in Stripe by support' });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ status: 'discarded', attempts: 1 });
    expect(discarded.body.history.at(-1)).toMatchObject({ action: 'discard', actor: 'op-ada', note: 'payment refunded in Stripe by support', from: 'retrying', to: 'discarded' });
    expect(await workflowOf(itemId).result()).toMatchObject({ status: 'discarded' });

    // The remaining retries never run, and the purchase ends without credits.
    await stack.sleep(2 * HOUR);
    expect(faults.runsOf(itemId)).toHaveLength(1);
    const ended = await purchases.until(member, purchaseId, ['payment-created', 'mint-failed', 'mint-discarded']);
    expect(ended).toMatchObject({ status: 'mint_failed', mintTransactionId: null });
    expect((await stack.client.workflow.getHandle(ended.workflowId).describe()).status.name).toBe('COMPLETED');
    expect(await purchases.mints(paymentIntentId)).toBe(0);
    // A settled item takes no more actions.
    expect((await act(itemId, 'resolve', { note: 'changed my mind' })).body.error).toMatchObject({ code: 'CONFLICT', message: 'This item is discarded' });
  });

  it('resolves only with a note, once, from manual review', async () => {
    const { member, purchaseId, itemId } = await failedMint();
    for (const i of [0, 1, 2]) await nextAutomaticRetry(itemId, i);
    await eventually(() => itemOf(itemId), (i) => i.status === 'manual_review');
    expect((await act(itemId, 'resolve', {})).status).toBe(400);
    const resolved = await act(itemId, 'resolve', { note: 'minted by hand as correction 4711' });
    expect(resolved.body).toMatchObject({ status: 'resolved', attempts: 3 });
    expect(resolved.body.history.at(-1)).toMatchObject({ action: 'resolve', actor: 'op-ada', note: 'minted by hand as correction 4711', from: 'manual_review', to: 'resolved' });
    expect((await workflowOf(itemId).describe()).searchAttributes).toMatchObject({ BusinessStatus: ['resolved'] });
    expect((await act(itemId, 'discard', { reason: 'twice' })).status).toBe(409);
    expect((await purchases.until(member, purchaseId, ['payment-created', 'mint-failed', 'mint-resolved'])).status).toBe('mint_failed');
  });

  it('records the same handover once, and leaves a settled item as it ended', async () => {
    const handover = { operationType: 'refund_clawback' as const, businessKey: `test:${randomUUID()}`, cooperativeId: coop, payload: { amount: 1n }, lastError: 'first failure' };
    const first = await stack.activities.recordDeadLetter(handover);
    const second = await stack.activities.recordDeadLetter({ ...handover, lastError: 'second failure' });
    expect(second).toEqual(first);
    expect(first.status).toBe('retrying');
    const { rows } = await stack.pool.query('SELECT id, last_error, payload FROM dead_letter_items WHERE business_key = $1', [handover.businessKey]);
    expect(rows).toEqual([{ id: first.id, last_error: 'first failure', payload: { amount: '1' } }]);
    // The same key under another operation type is another operation.
    expect((await stack.activities.recordDeadLetter({ ...handover, operationType: 'mint_credits' })).id).not.toBe(first.id);

    // A settled item handed over again stays settled: nothing reopens it.
    const { itemId } = await failedMint();
    expect((await act(itemId, 'discard', { reason: 'duplicate of a manual fix' })).status).toBe(200);
    const settled = await stack.pool.query('SELECT operation_type, business_key, cooperative_id, payload, last_error FROM dead_letter_items WHERE id = $1', [itemId]);
    const again = await stack.activities.recordDeadLetter({ operationType: 'mint_credits', businessKey: settled.rows[0].business_key, cooperativeId: coop, payload: settled.rows[0].payload, lastError: 'failed once more' });
    expect(again).toEqual({ id: itemId, status: 'discarded' });
    const listed = await api.request('GET', `/v1/operations/dlq?cooperativeId=${coop}&operationType=mint_credits&limit=100`, { token: operator });
    expect(listed.body.items.filter((i: { businessKey: string }) => i.businessKey === settled.rows[0].business_key)).toHaveLength(1);
  });
});
