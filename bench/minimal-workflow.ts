import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

/** The purchase benchmark's reference (bench/purchase-bench.ts): what Temporal itself costs for a workflow of a purchase's shape. */
export interface MinimalActivities {
  minimalStep(n: number): Promise<number>;
}

export const minimalDone = defineSignal('done');

const { minimalStep } = proxyActivities<MinimalActivities>({ startToCloseTimeout: '10 seconds' });

/** Start → one activity → a signal → complete. */
export async function minimalWorkflow(n: number): Promise<number> {
  let done = false;
  setHandler(minimalDone, () => void (done = true));
  const result = await minimalStep(n);
  await condition(() => done);
  return result;
}
