import { findPeriod } from '../../db/accounting-periods';
import { periodCloseWorkflowId, periodOf } from '../../domain/accounting-periods';
import { periodClose, WAITS_PER_RUN } from '../../workflows/period-close';
import { provisionCooperative } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * A period close blocked for long, in virtual time: the database refuses the close (as it does while a
 * stream is not sampled to the boundary) for a set number of attempts per cooperative, so the close
 * waits, tries again, and continues as new after WAITS_PER_RUN waits instead of growing one history.
 */
describe('period close blocked for long', () => {
  let stack: TimeSkippingStack;
  const refusalsLeft = new Map<string, number>();

  beforeAll(async () => {
    stack = await startTimeSkippingStack({
      activityOverrides: (real) => ({
        completePeriodClose: async (input) => {
          const left = refusalsLeft.get(input.cooperativeId) ?? 0;
          if (left === 0) return real.completePeriodClose(input);
          refusalsLeft.set(input.cooperativeId, left - 1);
          return { closed: false, closedAt: null, reason: 'a stream is not sampled to the boundary' };
        },
      }),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('continues as new, carrying its attempts, and closes the period once the database allows it', async () => {
    const cooperativeId = await provisionCooperative(stack.pool);
    const period = periodOf(new Date(Date.now() - 40 * DAY));
    refusalsLeft.set(cooperativeId, WAITS_PER_RUN + 2);
    const handle = await stack.client.workflow.start(periodClose, {
      taskQueue: stack.taskQueue, workflowId: periodCloseWorkflowId(cooperativeId, period),
      args: [{ cooperativeId, period, requestedBy: 'test', retryEveryMs: MINUTE }],
    });

    const state = await handle.result();
    expect(state).toMatchObject({ status: 'closed', attempts: WAITS_PER_RUN + 3, blockedBy: null, closedAt: expect.any(String) });
    expect((await findPeriod(stack.pool, cooperativeId, period)).status).toBe('closed');
    // Two runs: the first continued as new after its last wait, the second closed the period.
    const first = await stack.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
    expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    expect(first.events!.filter((e) => e.timerFiredEventAttributes)).toHaveLength(WAITS_PER_RUN);
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
  });
});
