import { randomUUID } from 'node:crypto';
import { recordDeadLetter } from '../../db/dead-letter';
import { deadLetterWorkflowId } from '../../domain/dead-letter';
import { startTestApi, type TestApi } from '../harness/stack';

/**
 * Temporal up, no worker on the API's task queue (all killed, or not yet started): a request that
 * needs a worker to accept an Update answers 503 with Retry-After once its wait is over, instead of
 * holding the connection for as long as no worker runs.
 */
describe('the API while no worker runs', () => {
  const WAIT_MS = 2_000;
  let api: TestApi;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi({ TEMPORAL_TASK_QUEUE: `no-worker-${randomUUID()}` }, { workflowWaitMs: WAIT_MS });
    operator = await api.token({ subject: 'op', role: 'operator' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers an operator action on a dead-letter item with 503 and Retry-After, and the item stays as it was', async () => {
    const itemId = randomUUID();
    await recordDeadLetter(api.pool, itemId, { operationType: 'webhook_delivery', businessKey: `no-worker-${itemId}`, cooperativeId: null, payload: {}, lastError: 'seeded' });
    // The item's workflow exists, on a task queue nobody polls: the Update is never accepted.
    const handle = await api.temporal.workflow.start('deadLetter', { workflowId: deadLetterWorkflowId(itemId), taskQueue: api.config.temporal.taskQueue, args: [{ itemId }] });
    try {
      const started = Date.now();
      const res = await api.request('POST', `/v1/operations/dlq/${itemId}/resolve`, { token: operator, body: { note: 'fixed by hand' } });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // Bounded by the wait (generously, for a loaded machine), not by how long the worker stays away.
      expect(Date.now() - started).toBeLessThan(WAIT_MS + 20_000);
      const item = await api.request('GET', `/v1/operations/dlq/${itemId}`, { token: operator });
      expect(item.body.status).toBe('retrying');
    } finally {
      await handle.terminate('test over');
    }
  }, 60_000);
});
