import { clientKey, replayOf, requestHash } from '../../db/idempotency';
import { BusinessError } from '../../domain/errors';

describe('idempotency keys', () => {
  it('scope a client key to its principal so that no subject or key can forge another scope', () => {
    const a = clientKey({ role: 'member', subject: 'a:b' }, 'c');
    const b = clientKey({ role: 'member', subject: 'a' }, 'b:c');
    expect(a).not.toBe(b);
    expect(clientKey({ role: 'service', subject: 'x' }, 'k')).not.toBe(clientKey({ role: 'coop_admin', subject: 'x' }, 'k'));
    expect(clientKey({ role: 'member', subject: 'm' }, 'k')).toBe('client:member:m:k');
  });

  it('replay the same request, refuse another, and treat an unused key as new', () => {
    const hash = requestHash('op', { amount: 1n, to: 'x' });
    expect(requestHash('op', { to: 'x', amount: 1n })).toBe(hash);
    expect(replayOf(undefined, hash, 'k')).toBeUndefined();
    expect(replayOf({ requestHash: hash, id: 1 }, hash, 'k')).toEqual({ requestHash: hash, id: 1 });
    expect(() => replayOf({ requestHash: requestHash('op', { amount: 2n, to: 'x' }) }, hash, 'client:member:m:k')).toThrow(BusinessError);
    expect(() => replayOf({ requestHash: 'other' }, hash, 'client:member:m:my:key')).toThrow("Idempotency key 'client:my:key' was already used for a different request");
  });
});
