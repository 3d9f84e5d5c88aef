import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import { eventually } from '../harness/eventually';
import { purchaseDriver, type Member } from '../harness/purchases';
import { refusedMints } from '../harness/refused-mints';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';

interface Item {
  id: string;
  status: string;
  businessKey: string;
  cooperativeId: string;
  createdAt: string;
  history: Array<{ action: string; actor: string | null; note: string | null; to: string }>;
}

/**
 * The dead-letter queue over HTTP, as an operator uses it: the API, a worker and the real components,
 * with retry delays of 1 s (DEAD_LETTER_RETRY_DELAYS, passed by the API to the purchases it starts).
 * Items come from paid purchases whose mints the ledger refuses (the one injected fault); operators
 * list, filter and page through them, network-wide or bound to one cooperative, and act on them.
 */
describe('dead-letter queue', () => {
  // A queue of this file's own: the fault must not reach, nor be bypassed by, other files' workers.
  const taskQueue = `dlq-${randomUUID().slice(0, 8)}`;
  let api: TestApi;
  let worker: TestWorker;
  const faults = refusedMints(() => api.pool);
  let purchases: ReturnType<typeof purchaseDriver>;
  let operator: string;
  let boundOperator: string;
  let coopA: string;
  let coopB: string;
  /** Three refused purchases in A, one in B, and their items once in manual review. */
  let failedA: Array<{ member: Member; purchaseId: string; paymentIntentId: string; itemId: string }>;
  let failedB: { itemId: string };

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi({ TEMPORAL_TASK_QUEUE: taskQueue, DEAD_LETTER_RETRY_DELAYS: '1,1,1' }), startTestWorker({ taskQueue, activityOverrides: faults.overrides })]);
    purchases = purchaseDriver(api, api.config.stripe.webhookSecret, () => api.pool);
    operator = await api.token({ subject: 'op-net', role: 'operator' });
    const create = async (slug: string) => (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: `${slug}-${randomUUID().slice(0, 8)}`, name: slug } })).body.id as string;
    [coopA, coopB] = [await create('dlq-a'), await create('dlq-b')];
    boundOperator = await api.token({ subject: 'op-b', role: 'operator', cooperativeId: coopB });

    const failedMint = async (coop: string) => {
      const member = await purchases.newMember(coop);
      const purchase = await purchases.buy(member, '2');
      faults.refuse(purchase.id);
      await purchases.paid(purchase.paymentIntentId);
      const waiting = await purchases.until(member, purchase.id, ['payment-created', 'mint-failed']);
      return { member, purchaseId: purchase.id, paymentIntentId: purchase.paymentIntentId, itemId: waiting.history[1]!.detail.deadLetterItemId as string };
    };
    // One after another, so their order (newest first) is known.
    failedA = [];
    for (let i = 0; i < 3; i++) failedA.push(await failedMint(coopA));
    failedB = await failedMint(coopB);
    for (const { itemId } of [...failedA, failedB]) await eventually(() => item(itemId), (i) => i.status === 'manual_review');
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  const list = (query: string, token = operator) => api.request('GET', `/v1/operations/dlq?${query}`, { token });
  const item = async (itemId: string, token = operator): Promise<Item> => (await api.request('GET', `/v1/operations/dlq/${itemId}`, { token })).body;
  const act = (itemId: string, action: 'retry' | 'resolve' | 'discard', body: Record<string, string> = {}, token = operator) =>
    api.request('POST', `/v1/operations/dlq/${itemId}/${action}`, { token, body });
  const ids = (items: Item[]) => items.map((i) => i.id);

  it('lists items newest first, by cooperative, status and operation type, a page at a time', async () => {
    const newestFirst = [...failedA].reverse().map((f) => f.itemId);
    const all = await list(`cooperativeId=${coopA}`);
    expect(all.status).toBe(200);
    expect(ids(all.body.items)).toEqual(newestFirst);
    expect(all.body.items[0]).toMatchObject({ operationType: 'mint_credits', status: 'manual_review', attempts: 3, cooperativeId: coopA, workflowId: `dlq:${newestFirst[0]}` });

    const first = await list(`cooperativeId=${coopA}&status=manual_review&operationType=mint_credits&limit=2`);
    expect(ids(first.body.items)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list(`cooperativeId=${coopA}&status=manual_review&operationType=mint_credits&limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second.body.items)).toEqual(newestFirst.slice(2));
    expect(second.body.nextCursor).toBeNull();

    expect((await list(`cooperativeId=${coopA}&status=succeeded`)).body.items).toEqual([]);
    expect((await list(`cooperativeId=${coopA}&operationType=refund_clawback`)).body.items).toEqual([]);
    expect((await list(`cooperativeId=${coopB}`)).body.items.map((i: Item) => i.id)).toEqual([failedB.itemId]);
    for (const bad of ['status=lost', 'operationType=teleport', 'limit=0', 'cursor=not-a-cursor', 'cooperativeId=abc', 'colour=red']) {
      const refused = await list(bad);
      expect({ bad, status: refused.status, code: refused.body.error.code }).toEqual({ bad, status: 400, code: 'VALIDATION_ERROR' });
    }
  });

  it("shows an operator bound to a cooperative that cooperative's items only, and only operators see any", async () => {
    const seen = await list('limit=100', boundOperator);
    expect(seen.status).toBe(200);
    expect(new Set(seen.body.items.map((i: Item) => i.cooperativeId))).toEqual(new Set([coopB]));
    expect(ids(seen.body.items)).toContain(failedB.itemId);
    expect((await list(`cooperativeId=${coopA}`, boundOperator)).status).toBe(403);
    const foreign = failedA[0]!.itemId;
    expect((await api.request('GET', `/v1/operations/dlq/${foreign}`, { token: boundOperator })).status).toBe(404);
    expect((await act(foreign, 'resolve', { note: 'not mine' }, boundOperator)).status).toBe(404);
    expect((await item(foreign)).status).toBe('manual_review');
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coopA });
    expect((await list(`cooperativeId=${coopA}`, admin)).status).toBe(403);
    expect((await act(foreign, 'resolve', { note: 'an admin' }, admin)).status).toBe(403);

    // Eight identical resolves at once: actions are taken one at a time, so one is, and the others find it taken.
    const burst = await Promise.all(Array.from({ length: 8 }, () => act(failedB.itemId, 'resolve', { note: 'handled with the cooperative' }, boundOperator)));
    expect(burst.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const resolved = await item(failedB.itemId, boundOperator);
    expect(resolved.status).toBe('resolved');
    expect(resolved.history.filter((h) => h.action === 'resolve')).toEqual([expect.objectContaining({ actor: 'op-b', note: 'handled with the cooperative', to: 'resolved' })]);
  });

  it('finds items in review in the Temporal UI by BusinessStatus and CooperativeId', async () => {
    const query = `BusinessStatus = "manual_review" AND CooperativeId = "${coopA}"`;
    const found = await eventually(
      async () => {
        const workflowIds: string[] = [];
        for await (const w of api.temporal.workflow.list({ query })) workflowIds.push(w.workflowId);
        return workflowIds.sort();
      },
      (w) => w.length === 3,
    );
    expect(found).toEqual(failedA.map((f) => `dlq:${f.itemId}`).sort());
  });

  it('retries, resolves and discards, each recorded with its operator, and refuses what an item no longer allows', async () => {
    const [toRetry, toResolve, toDiscard] = failedA as [(typeof failedA)[number], (typeof failedA)[number], (typeof failedA)[number]];

    faults.repair(toRetry.purchaseId);
    const retried = await act(toRetry.itemId, 'retry', { note: 'ledger fixed' });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'succeeded', attempts: 4 });
    expect(retried.body.history.map((h: Item['history'][number]) => [h.action, h.actor, h.to])).toEqual([
      ['automatic_retry', null, 'retrying'],
      ['automatic_retry', null, 'retrying'],
      ['automatic_retry', null, 'manual_review'],
      ['retry', 'op-net', 'succeeded'],
    ]);
    const minted = await purchases.until(toRetry.member, toRetry.purchaseId, ['payment-created', 'mint-failed', 'minted']);
    expect(minted.status).toBe('minted');
    expect(await purchases.mints(toRetry.paymentIntentId)).toBe(1);
    expect((await act(toRetry.itemId, 'retry')).status).toBe(409);

    const noNote = await act(toResolve.itemId, 'resolve', {});
    expect([noNote.status, noNote.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const resolved = await act(toResolve.itemId, 'resolve', { note: 'credits granted by correction' });
    expect(resolved.body).toMatchObject({ status: 'resolved' });
    expect(resolved.body.history.at(-1)).toMatchObject({ action: 'resolve', actor: 'op-net', note: 'credits granted by correction' });
    const twice = await act(toResolve.itemId, 'resolve', { note: 'again' });
    expect([twice.status, twice.body.error.code]).toEqual([409, 'CONFLICT']);
    expect((await act(toResolve.itemId, 'retry')).status).toBe(409);

    expect((await act(toDiscard.itemId, 'discard', { note: 'wrong field' })).status).toBe(400);
    const discarded = await act(toDiscard.itemId, 'discard', { reason: 'payment refunded by support' });
    expect(discarded.body).toMatchObject({ status: 'discarded' });
    const ended = await purchases.until(toDiscard.member, toDiscard.purchaseId, ['payment-created', 'mint-failed', 'mint-discarded']);
    expect(ended.status).toBe('mint_failed');
    expect(await purchases.mints(toDiscard.paymentIntentId)).toBe(0);

    expect(ids((await list(`cooperativeId=${coopA}&status=succeeded`)).body.items)).toEqual([toRetry.itemId]);
    expect(ids((await list(`cooperativeId=${coopA}&status=manual_review`)).body.items)).toEqual([]);
    const unknown = randomUUID();
    expect((await api.request('GET', `/v1/operations/dlq/${unknown}`, { token: operator })).status).toBe(404);
    expect((await act(unknown, 'retry')).status).toBe(404);
    expect((await ledger.integrityReport(api.pool, coopA)).findings).toEqual([]);
  });
});
