import { randomUUID } from 'node:crypto';
import { publishEvents } from '../../db/outbox';
import { secretBox } from '../../db/secret-box';
import { createEndpoint } from '../../db/webhook-endpoints';
import { webhookDeliveryWorkflowId } from '../../domain/webhooks';
import { outboxSweep } from '../../workflows/outbox-sweep';
import type { webhookDelivery } from '../../workflows/webhook-delivery';
import { eventually } from '../harness/eventually';
import { provisionCooperative } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook-receiver';

const MINUTE = 60_000;

/**
 * An endpoint's delivery workflow over its lifetime, in virtual time: woken by the outbox sweep, it
 * delivers, waits for more, takes a wake-up while it waits, completes after five idle minutes, and the
 * next wake-up starts a new run that goes on where the last one stopped. The outbox sweep wakes an
 * endpoint whose deliveries were published but never woken.
 */
describe('webhook delivery workflow in virtual time', () => {
  let stack: TimeSkippingStack;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startTimeSkippingStack(), startWebhookReceiver()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), receiver?.close()]);
  });

  it('delivers what it is woken for, completes when idle for five minutes, and starts again on the next wake-up', async () => {
    const coop = await provisionCooperative(stack.pool);
    const { endpoint, secret } = await createEndpoint(stack.pool, secretBox(stack.config.webhooks.secretsKey), { cooperativeId: coop, url: receiver.url, eventTypes: ['cloud.minted'], idempotencyKey: randomUUID() });
    receiver.secrets.push(secret);
    const event = async (aggregateId: string) => {
      await stack.pool.query(`INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload) VALUES ($1, 'cloud.minted', $2, '{}')`, [coop, aggregateId]);
      // The sweep publishes what no relay did (none runs here) and wakes the endpoint.
      return stack.activities.sweepOutbox({ staleAfterMs: 60 * MINUTE });
    };
    const arrived = async () => receiver.deliveries.filter((d) => d.body.cooperativeId === coop).map((d) => d.body.aggregateId);
    const handle = stack.client.workflow.getHandle<typeof webhookDelivery>(webhookDeliveryWorkflowId(endpoint.id));

    expect((await event('first')).published).toBeGreaterThanOrEqual(1);
    await eventually(arrived, (a) => a.length === 1);
    const { runId } = await handle.describe();
    await stack.sleep(MINUTE);
    await event('second');
    await eventually(arrived, (a) => a.length === 2);
    expect((await handle.describe()).runId).toBe(runId);

    const firstRun = await handle.result();
    expect(firstRun).toEqual({ status: 'idle', delivered: 2, deadLettered: 0 });
    expect((await handle.describe()).status.name).toBe('COMPLETED');

    await event('third');
    await eventually(arrived, (a) => a.length === 3);
    const secondRun = await handle.describe();
    expect(secondRun.runId).not.toBe(runId);
    expect(await arrived()).toEqual(['first', 'second', 'third']);
    expect(receiver.deliveries.every((d) => d.verifiedBy.length === 1)).toBe(true);
  });

  it('the outbox sweep workflow wakes an endpoint whose deliveries wait with nobody to deliver them', async () => {
    const coop = await provisionCooperative(stack.pool);
    const { endpoint, secret } = await createEndpoint(stack.pool, secretBox(stack.config.webhooks.secretsKey), { cooperativeId: coop, url: receiver.url, eventTypes: ['cloud.burned'], idempotencyKey: randomUUID() });
    receiver.secrets.push(secret);
    await stack.pool.query(`INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload) VALUES ($1, 'cloud.burned', 'stranded', '{}')`, [coop]);
    // Published without a wake-up, as when the worker died between the two.
    await eventually(async () => (await publishEvents(stack.pool, 500), (await stack.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [endpoint.id])).rows[0].n), (n) => n === 1);
    const swept = await stack.client.workflow.execute(outboxSweep, { taskQueue: stack.taskQueue, workflowId: `outbox-sweep-${randomUUID()}`, args: [{ staleAfterMs: 0 }] });
    expect(swept.woken).toBeGreaterThanOrEqual(1);
    await eventually(async () => receiver.deliveries.filter((d) => d.body.cooperativeId === coop).map((d) => d.body.aggregateId), (a) => a.length === 1);
  });
});
