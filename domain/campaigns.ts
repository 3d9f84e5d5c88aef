import { BusinessError } from './errors';
import { formatMicros } from './money';

/**
 * Promotional campaigns (the billing seed's campaign engine): a budget of credits granted to members
 * in batches, at most a per-wallet cap each, one grant per member and campaign. Grants are real credits:
 * promotional lots expiring `grantExpiryDays` after the grant, so the ledger's consumption order spends
 * them before paid credits, and the expiry schedule retires what is left.
 */
export const MAX_GRANT_BATCH = 1000;

export interface Campaign {
  id: string;
  cooperativeId: string;
  name: string;
  /** µCLOUD the campaign may grant in all. */
  budget: bigint;
  /** µCLOUD one member may be granted. */
  perWalletCap: bigint;
  grantExpiryDays: number;
  /** µCLOUD granted so far. */
  granted: bigint;
  grantCount: number;
  createdBy: string;
  createdAt: string;
}

export interface CampaignGrant {
  campaignId: string;
  memberId: string;
  amount: bigint;
  lotId: string;
  transactionId: string;
  expiresAt: string;
  grantedAt: string;
}

export interface GrantRequest {
  memberId: string;
  amount: bigint;
}

/** A campaign's own limits: a positive budget, a cap within it, an expiry of a day to ten years. RangeError says what is wrong. */
export function validateCampaign(c: { budget: bigint; perWalletCap: bigint; grantExpiryDays: number }): void {
  if (c.budget <= 0n) throw new RangeError('the budget must be positive');
  if (c.perWalletCap <= 0n || c.perWalletCap > c.budget) throw new RangeError('the per-wallet cap must be positive and within the budget');
  if (!Number.isInteger(c.grantExpiryDays) || c.grantExpiryDays < 1 || c.grantExpiryDays > 3650) throw new RangeError('grants expire after 1 to 3650 whole days');
}

/**
 * Which grants of a batch are new, checked as a whole before anything is granted: 1 to 1,000 grants,
 * each member once, each positive and within the per-wallet cap (VALIDATION_ERROR); a member the
 * campaign already granted is the same grant again when the amount is the same, and refused when it
 * differs (CONFLICT); the new grants together must fit what is left of the budget (INSUFFICIENT_FUNDS).
 */
export function newGrants(campaign: Pick<Campaign, 'budget' | 'granted' | 'perWalletCap'>, batch: readonly GrantRequest[], existing: ReadonlyMap<string, bigint>): GrantRequest[] {
  if (batch.length === 0 || batch.length > MAX_GRANT_BATCH) throw new BusinessError('VALIDATION_ERROR', `A batch grants to 1 to ${MAX_GRANT_BATCH} members`);
  if (new Set(batch.map((g) => g.memberId)).size !== batch.length) throw new BusinessError('VALIDATION_ERROR', 'A batch names each member once');
  const overCap = batch.filter((g) => g.amount <= 0n || g.amount > campaign.perWalletCap);
  if (overCap.length > 0) {
    throw new BusinessError('VALIDATION_ERROR', `Each grant is more than 0 and at most the per-wallet cap of ${formatMicros(campaign.perWalletCap)} CLOUD; ${overCap.length} are not (first: member ${overCap[0]!.memberId})`);
  }
  const changed = batch.find((g) => existing.has(g.memberId) && existing.get(g.memberId) !== g.amount);
  if (changed) throw new BusinessError('CONFLICT', `Member ${changed.memberId} was already granted ${formatMicros(existing.get(changed.memberId)!)} CLOUD by this campaign`);
  const fresh = batch.filter((g) => !existing.has(g.memberId));
  const total = fresh.reduce((a, g) => a + g.amount, 0n);
  const left = campaign.budget - campaign.granted;
  if (total > left) throw new BusinessError('INSUFFICIENT_FUNDS', `The batch grants ${formatMicros(total)} CLOUD but only ${formatMicros(left)} CLOUD of the campaign's budget is left; nothing was granted`);
  return fresh;
}
