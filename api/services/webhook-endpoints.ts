import { webhookDeliveryWaker } from '../../clients/webhook-delivery';
import { setEndpointStatus, type WebhookEndpoint } from '../../db/webhook-endpoints';
import type { ApiDependencies } from '../dependencies';
import { temporalCall } from '../await-workflow';

/**
 * Enables an endpoint and wakes its delivery workflow, so deliveries that waited while it was disabled
 * go out now. If Temporal cannot be reached, the endpoint is enabled all the same: the outbox sweep
 * wakes any endpoint whose deliveries wait too long.
 */
export async function enableEndpoint(deps: ApiDependencies, cooperativeId: string, endpointId: string): Promise<WebhookEndpoint> {
  const endpoint = await setEndpointStatus(deps.pool, cooperativeId, endpointId, 'active');
  await temporalCall(deps, () => webhookDeliveryWaker(deps.temporal, deps.config)([{ endpointId, cooperativeId }])).catch((err: unknown) =>
    deps.logger.warn({ err, endpointId }, 'could not wake the delivery workflow of an enabled webhook endpoint; the outbox sweep will'),
  );
  return endpoint;
}
