import type { Pool } from 'pg';
import type Stripe from 'stripe';
import type { ChainConnector } from '../clients/chain';
import type { StartStreamReconciliation, StartStreamSampling } from '../clients/stream-runs';
import type { WakeDeliveries } from '../clients/webhook-delivery';
import type { Config } from '../config/config';
import { secretBox } from '../db/secret-box';
import { createCooperativeActivities } from './cooperatives';
import { createCorrectionActivities } from './corrections';
import { createDeadLetterActivities, deadLetterHandlers } from './dead-letter';
import { createLedgerActivities } from './ledger';
import { createNetworkActivities } from './network';
import { outboxSweeper } from './outbox';
import { createGovernanceActivities } from './governance';
import { createPaymentActivities } from './payments';
import { createPeriodActivities } from './periods';
import { createRevenueRuleActivities } from './revenue-rules';
import { createScheduledJobActivities } from './scheduled-jobs';
import { createStakingActivities } from './staking';
import { createStreamReconciliationActivities, streamReconciler } from './stream-reconciliation';
import { createStreamActivities, streamSampler } from './streams';
import { createWebhookActivities, deliverWebhookOnce } from './webhooks';

export interface ActivityDependencies {
  pool: Pool;
  stripe: Stripe;
  operations: Config['operations'];
  webhooks: Config['webhooks'];
  /** Wakes endpoints' delivery workflows (through the Temporal client, clients/webhook-delivery.ts). */
  wake: WakeDeliveries;
  /** The chain the streams run on, connected on first use. */
  chain: ChainConnector;
  streams: Config['streams'];
  /** Start a cooperative's sampling run or stream reconciliation (through the Temporal client, clients/stream-runs.ts). */
  startStreamSampling: StartStreamSampling;
  startStreamReconciliation: StartStreamReconciliation;
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const ledger = createLedgerActivities(deps.pool);
  const webhooks = { pool: deps.pool, secrets: secretBox(deps.webhooks.secretsKey), allowPrivateTargets: deps.webhooks.allowPrivateTargets };
  const sampler = streamSampler({ pool: deps.pool, chain: deps.chain, httpSources: deps.streams.httpPriceSources });
  return {
    ...createCooperativeActivities(deps.pool),
    ...ledger,
    ...createPaymentActivities(deps.pool, deps.stripe),
    ...createRevenueRuleActivities(deps.pool),
    ...createGovernanceActivities(deps.pool),
    ...createNetworkActivities(deps.pool),
    ...createStakingActivities(deps.pool),
    ...createCorrectionActivities(deps.pool),
    ...createScheduledJobActivities({
      pool: deps.pool, eventRetentionDays: deps.operations.eventRetentionDays, sweepOutbox: outboxSweeper({ pool: deps.pool, wake: deps.wake }), startStreamSampling: deps.startStreamSampling,
      startStreamReconciliation: deps.startStreamReconciliation,
    }),
    ...createDeadLetterActivities(deps.pool, deadLetterHandlers({ ledger, deliverWebhookOnce: deliverWebhookOnce(webhooks), sampleStreamFully: sampler.sampleStreamFully })),
    ...createStreamActivities(sampler),
    ...createPeriodActivities(deps.pool),
    ...createStreamReconciliationActivities(streamReconciler({ pool: deps.pool, chain: deps.chain, thresholdBps: deps.streams.driftThresholdBps })),
    ...createWebhookActivities(webhooks),
  };
}

export type Activities = ReturnType<typeof createActivities>;
