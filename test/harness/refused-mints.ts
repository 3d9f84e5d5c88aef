import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { Activities } from '../../activities';

/**
 * A fault for the dead-letter queue to deal with: the ledger refuses the mints of chosen purchases
 * until they are repaired. The purchase's mint activity and every handler run of those mints' dead-letter
 * items fail, non-retryably, as a ledger refusing them would; everything else runs for real (the
 * handler of a repaired mint is the real one, minting under the purchase's key).
 */
export function refusedMints(owner: () => Pool) {
  const refused = new Set<string>();
  const key = (purchaseId: string) => `purchase:${purchaseId}:mint`;
  const refusal = () => ApplicationFailure.nonRetryable('the ledger refused this mint (injected fault)', 'CONFLICT');
  /** Every handler run of a dead-letter item, with the time its workflow scheduled it. */
  const handlerRuns: Array<{ itemId: string; scheduledAt: number }> = [];

  return {
    refuse: (purchaseId: string) => void refused.add(key(purchaseId)),
    repair: (purchaseId: string) => void refused.delete(key(purchaseId)),
    handlerRuns,
    runsOf: (itemId: string) => handlerRuns.filter((r) => r.itemId === itemId).map((r) => r.scheduledAt),
    overrides: (real: Activities): Partial<Activities> => ({
      async mintCredits(req) {
        if (refused.has(req.idempotencyKey)) throw refusal();
        return real.mintCredits(req);
      },
      async runDeadLetterHandler(input) {
        handlerRuns.push({ itemId: input.itemId, scheduledAt: Context.current().info.currentAttemptScheduledTimestampMs });
        const { rows } = await owner().query<{ business_key: string }>('SELECT business_key FROM dead_letter_items WHERE id = $1', [input.itemId]);
        if (rows[0] && refused.has(rows[0].business_key)) throw refusal();
        return real.runDeadLetterHandler(input);
      },
    }),
  };
}
