import { defineQuery, proxyActivities, setHandler, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { CooperativeActivities } from '../activities/cooperatives';
import type { Cooperative } from '../domain/cooperative';
import { BusinessStatus, CooperativeId } from './search-attributes';

export interface CooperativeProvisioningInput {
  slug: string;
  name: string;
}

export interface CooperativeProvisioningState {
  step: 'creating' | 'opening-ledger' | 'activating' | 'done';
  cooperative?: Cooperative;
}

export const cooperativeProvisioningStatus = defineQuery<CooperativeProvisioningState>('status');

/** Business workflow id: one provisioning per slug, so a repeated request joins or finds the first. */
export const cooperativeProvisioningWorkflowId = (slug: string) => `cooperative:${slug}`;

const { createCooperative, openCooperativeLedger, activateCooperative } = proxyActivities<CooperativeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['CONFLICT'] },
});

/** Creates a cooperative, opens its chart of accounts and V1 rate card, and brings it to `active`. */
export async function cooperativeProvisioning(input: CooperativeProvisioningInput): Promise<Cooperative> {
  const state: CooperativeProvisioningState = { step: 'creating' };
  setHandler(cooperativeProvisioningStatus, () => state);
  upsertSearchAttributes([{ key: BusinessStatus, value: 'provisioning' }]);

  state.cooperative = await createCooperative({ id: uuid4(), slug: input.slug, name: input.name });
  upsertSearchAttributes([{ key: CooperativeId, value: state.cooperative.id }]);

  state.step = 'opening-ledger';
  await openCooperativeLedger(state.cooperative.id);

  state.step = 'activating';
  state.cooperative = await activateCooperative(state.cooperative.id);

  state.step = 'done';
  upsertSearchAttributes([{ key: BusinessStatus, value: state.cooperative.status }]);
  return state.cooperative;
}
