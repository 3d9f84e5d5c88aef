import { checkDeadLetterAction, DEAD_LETTER_ACTIONS, DEAD_LETTER_STATUSES, isSettled, type DeadLetterAction, type DeadLetterStatus } from '../../domain/dead-letter';
import { BusinessError } from '../../domain/errors';

/** Which action each status allows, and what every action needs said. */
describe('dead-letter actions', () => {
  const refusal = (status: DeadLetterStatus, action: DeadLetterAction, note?: string) => {
    try {
      checkDeadLetterAction(status, action, note);
      return 'allowed';
    } catch (err) {
      if (!(err instanceof BusinessError)) throw err;
      return err.code;
    }
  };

  it('allows retry in manual review only, resolve and discard until the item settles, and nothing after', () => {
    const table = Object.fromEntries(DEAD_LETTER_STATUSES.map((s) => [s, Object.fromEntries(DEAD_LETTER_ACTIONS.map((a) => [a, refusal(s, a, 'why')]))]));
    expect(table).toEqual({
      retrying: { retry: 'CONFLICT', resolve: 'allowed', discard: 'allowed' },
      manual_review: { retry: 'allowed', resolve: 'allowed', discard: 'allowed' },
      succeeded: { retry: 'CONFLICT', resolve: 'CONFLICT', discard: 'CONFLICT' },
      resolved: { retry: 'CONFLICT', resolve: 'CONFLICT', discard: 'CONFLICT' },
      discarded: { retry: 'CONFLICT', resolve: 'CONFLICT', discard: 'CONFLICT' },
    });
    expect(DEAD_LETTER_STATUSES.filter(isSettled)).toEqual(['succeeded', 'resolved', 'discarded']);
  });

  it('needs a note to resolve and a reason to discard, but nothing to retry', () => {
    expect(refusal('manual_review', 'resolve')).toBe('VALIDATION_ERROR');
    expect(refusal('manual_review', 'discard', '  ')).toBe('VALIDATION_ERROR');
    expect(refusal('manual_review', 'retry')).toBe('allowed');
  });
});
