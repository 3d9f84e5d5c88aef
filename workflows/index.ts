// The workflow bundle's entry point: every workflow the worker runs.
export { booking } from './booking';
export { cooperativeProvisioning } from './cooperative-provisioning';
export { correction } from './correction';
export { creditPurchase } from './credit-purchase';
export { purchaseRefund } from './purchase-refund';
export { deadLetter } from './dead-letter';
export { periodClose } from './period-close';
export { proposal } from './proposal';
export { revenueRule } from './revenue-rule';
export { scheduledJob } from './scheduled-job';
export { settlement } from './settlement';
export { stake } from './stake';
export { streamReconciliation } from './stream-reconciliation';
export { streamSampling } from './stream-sampling';
export { webhookDelivery } from './webhook-delivery';
