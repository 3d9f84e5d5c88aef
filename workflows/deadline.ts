import { condition, sleep } from '@temporalio/workflow';

/** A durable timer that a workflow can wait on together with a condition. */
export interface Deadline {
  /** True once the timer has fired. */
  readonly passed: boolean;
  /** Resolves when `done` holds or the deadline passes, whichever comes first. */
  until(done: () => boolean): Promise<void>;
}

/**
 * A deadline `ms` from now whose timer is never cancelled, unlike `condition(done, ms)`'s: a step may
 * come in the very workflow task in which the timer fires, and a fired timer cannot be cancelled (the
 * time-skipping test server stalls such a workflow for good). A timer nobody waits for any more fires
 * unheard, or the workflow ends first.
 */
export function deadline(ms: number): Deadline {
  let passed = false;
  const timer = sleep(Math.max(ms, 0)).then(() => {
    passed = true;
  });
  return {
    get passed() {
      return passed;
    },
    until: (done) => Promise.race([timer, condition(done)]),
  };
}
