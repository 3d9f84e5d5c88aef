import { BusinessError } from '../../domain/errors';
import { MAX_GRANT_BATCH, newGrants, validateCampaign } from '../../domain/campaigns';

const campaign = { budget: 100n, granted: 40n, perWalletCap: 10n };

function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof BusinessError) return `${err.code}: ${err.message}`;
    throw err;
  }
}

describe('a grant batch', () => {
  it('grants what is new, and treats a member granted the same amount before as that grant again', () => {
    const batch = [{ memberId: 'a', amount: 10n }, { memberId: 'b', amount: 5n }];
    expect(newGrants(campaign, batch, new Map())).toEqual(batch);
    expect(newGrants(campaign, batch, new Map([['a', 10n]]))).toEqual([{ memberId: 'b', amount: 5n }]);
  });

  it('is refused as a whole when the new grants together exceed what is left of the budget', () => {
    const batch = Array.from({ length: 7 }, (_, i) => ({ memberId: `m${i}`, amount: 10n }));
    expect(newGrants(campaign, batch.slice(0, 6), new Map())).toHaveLength(6); // exactly the 60 left
    expect(refusal(() => newGrants(campaign, batch, new Map()))).toBe("INSUFFICIENT_FUNDS: The batch grants 0.00007 CLOUD but only 0.00006 CLOUD of the campaign's budget is left; nothing was granted");
    // Members granted before do not count again.
    expect(newGrants(campaign, batch, new Map([['m0', 10n]]))).toHaveLength(6);
  });

  it('refuses an empty or oversized batch, a repeated member, a grant over the cap or not positive, and a changed amount', () => {
    expect(refusal(() => newGrants(campaign, [], new Map()))).toMatch(/^VALIDATION_ERROR: A batch grants to 1 to 1000 members/);
    const many = Array.from({ length: MAX_GRANT_BATCH + 1 }, (_, i) => ({ memberId: `m${i}`, amount: 1n }));
    expect(refusal(() => newGrants({ ...campaign, budget: 10_000n }, many, new Map()))).toMatch(/^VALIDATION_ERROR/);
    expect(newGrants({ ...campaign, budget: 10_000n, granted: 0n }, many.slice(0, MAX_GRANT_BATCH), new Map())).toHaveLength(MAX_GRANT_BATCH);
    expect(refusal(() => newGrants(campaign, [{ memberId: 'a', amount: 1n }, { memberId: 'a', amount: 1n }], new Map()))).toMatch(/each member once/);
    expect(refusal(() => newGrants(campaign, [{ memberId: 'a', amount: 11n }], new Map()))).toMatch(/^VALIDATION_ERROR: .*per-wallet cap.*member a/);
    expect(refusal(() => newGrants(campaign, [{ memberId: 'a', amount: 0n }], new Map()))).toMatch(/^VALIDATION_ERROR/);
    expect(refusal(() => newGrants(campaign, [{ memberId: 'a', amount: 3n }], new Map([['a', 4n]])))).toMatch(/^CONFLICT: Member a was already granted/);
  });

  it('belongs to a campaign with a positive budget, a cap within it and an expiry of 1 to 3650 days', () => {
    expect(() => validateCampaign({ budget: 100n, perWalletCap: 100n, grantExpiryDays: 30 })).not.toThrow();
    expect(() => validateCampaign({ budget: 0n, perWalletCap: 0n, grantExpiryDays: 30 })).toThrow(/budget/);
    expect(() => validateCampaign({ budget: 100n, perWalletCap: 101n, grantExpiryDays: 30 })).toThrow(/cap/);
    expect(() => validateCampaign({ budget: 100n, perWalletCap: 10n, grantExpiryDays: 0 })).toThrow(/expire/);
  });
});
