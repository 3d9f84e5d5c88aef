import { randomUUID } from 'node:crypto';
import { webhookDeliveryWaker } from '../../clients/webhook-delivery';
import { secretBox } from '../../db/secret-box';
import { createEndpoint } from '../../db/webhook-endpoints';
import { webhookDeliveryWorkflowId } from '../../domain/webhooks';
import type { webhookDelivery } from '../../workflows/webhook-delivery';
import { eventually } from '../harness/eventually';
import { provisionCooperative } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook-receiver';

const MINUTE = 60_000;

/**
 * An endpoint's delivery workflow over its lifetime, in virtual time: woken, it delivers, waits for
 * more, takes a wake-up while it waits, completes after five idle minutes, and the next wake-up starts
 * a new run that goes on where the last one stopped. The test publishes its events itself (event and
 * delivery, as the relay writes them) and wakes the endpoint on this file's test server: a relay of
 * another test file, publishing the same database, would wake it on the real-time server instead.
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
    const wake = webhookDeliveryWaker(stack.client, stack.config);
    const event = async (aggregateId: string) => {
      await stack.pool.query(
        `WITH o AS (INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload, published_at) VALUES ($1, 'cloud.minted', $3, '{}', now()) RETURNING id)
         INSERT INTO webhook_deliveries (cooperative_id, endpoint_id, outbox_id) SELECT $1, $2, id FROM o`,
        [coop, endpoint.id, aggregateId],
      );
      await wake([{ endpointId: endpoint.id, cooperativeId: coop }]);
    };
    const arrived = async () => receiver.deliveries.filter((d) => d.body.cooperativeId === coop).map((d) => d.body.aggregateId);
    const handle = stack.client.workflow.getHandle<typeof webhookDelivery>(webhookDeliveryWorkflowId(endpoint.id));

    await event('first');
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
    expect((await handle.describe()).runId).not.toBe(runId);
    expect(await arrived()).toEqual(['first', 'second', 'third']);
    expect(receiver.deliveries.every((d) => d.verifiedBy.length === 1)).toBe(true);
  });
});
