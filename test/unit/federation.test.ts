import { claimAt, mappedRole, memberClaimValue } from '../../domain/federation';

describe('federated claim mapping', () => {
  const roles = { 'coop-member': 'member', 'coop-admin': 'coop_admin', billing: 'service' } as const;

  it('reads claims by dotted path, only through plain objects and own properties', () => {
    const claims = { realm_access: { roles: ['coop-member'] }, list: [{ a: 1 }], wallet: '0xabc' };
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['coop-member']);
    expect(claimAt(claims, 'wallet')).toBe('0xabc');
    expect(claimAt(claims, 'list.0.a')).toBeUndefined();
    expect(claimAt(claims, 'realm_access.constructor')).toBeUndefined();
    expect(claimAt(claims, 'missing.roles')).toBeUndefined();
  });

  it('maps a string or an array of values, the most privileged mapped role winning', () => {
    const role = (value: unknown) => mappedRole({ r: value }, { roleClaim: 'r', roles });
    expect(role('coop-member')).toBe('member');
    expect(role(['coop-member', 'billing'])).toBe('service');
    expect(role(['coop-member', 'coop-admin', 'billing'])).toBe('coop_admin');
    expect(role(['visitor', 42, null])).toBeUndefined();
    expect(role('toString')).toBeUndefined();
    expect(role(undefined)).toBeUndefined();
  });

  it('takes the member claim only as a non-empty string of at most 255 characters', () => {
    expect(memberClaimValue({ m: 'alice.techne.eth' }, 'm')).toBe('alice.techne.eth');
    for (const bad of ['', 'x'.repeat(256), 7, ['a'], null]) expect(memberClaimValue({ m: bad }, 'm')).toBeUndefined();
  });
});
