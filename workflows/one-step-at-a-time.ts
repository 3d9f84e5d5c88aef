/**
 * A workflow whose Updates must not interleave: one step runs at a time, and validators refuse another
 * while `busy` (an Update handler's awaits would otherwise let a second one start halfway).
 */
export function oneStepAtATime() {
  let busy = false;
  return {
    get busy(): boolean {
      return busy;
    },
    async run(step: () => Promise<void>): Promise<void> {
      busy = true;
      try {
        await step();
      } finally {
        busy = false;
      }
    },
  };
}
