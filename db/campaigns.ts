import type { Pool, PoolClient } from 'pg';
import type { Campaign, CampaignGrant } from '../domain/campaigns';
import { formatMicros } from '../domain/money';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { idempotent, requestHash } from './idempotency';
import { recordEvent } from './outbox';
import { inTenantTransaction } from './transaction';

interface CampaignRow {
  id: string;
  cooperative_id: string;
  name: string;
  budget: bigint;
  per_wallet_cap: bigint;
  grant_expiry_days: number;
  granted: bigint;
  grant_count: number;
  created_by: string;
  request_hash: string;
  created_at: Date;
  micros: string;
}

const SELECT_CAMPAIGN = `
  SELECT c.*, ${creationPosition.micros('c.created_at')} AS micros, (SELECT count(*)::int FROM campaign_grants g WHERE g.campaign_id = c.id) AS grant_count
    FROM campaigns c`;

const toCampaign = (r: CampaignRow): Campaign => ({
  id: r.id, cooperativeId: r.cooperative_id, name: r.name, budget: r.budget, perWalletCap: r.per_wallet_cap, grantExpiryDays: r.grant_expiry_days,
  granted: r.granted, grantCount: r.grant_count, createdBy: r.created_by, createdAt: r.created_at.toISOString(),
});

export interface NewCampaign {
  id: string;
  cooperativeId: string;
  name: string;
  budget: bigint;
  perWalletCap: bigint;
  grantExpiryDays: number;
  createdBy: string;
  idempotencyKey: string;
}

/** Creates a campaign (limits already validated: domain/campaigns.ts), idempotent by key. */
export function createCampaign(pool: Pool, c: NewCampaign): Promise<{ campaign: Campaign; created: boolean }> {
  const hash = requestHash('campaign', { name: c.name, budget: c.budget, perWalletCap: c.perWalletCap, grantExpiryDays: c.grantExpiryDays });
  return inTenantTransaction(pool, c.cooperativeId, async (client) => {
    const read = async (where: string, value: string) => (await client.query<CampaignRow>(`${SELECT_CAMPAIGN} WHERE ${where}`, [value])).rows[0];
    const { row, replayed } = await idempotent(
      c.idempotencyKey,
      hash,
      () => read('c.idempotency_key = $1', c.idempotencyKey),
      async () => {
        await client.query(
          `INSERT INTO campaigns (id, cooperative_id, name, budget, per_wallet_cap, grant_expiry_days, created_by, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [c.id, c.cooperativeId, c.name, c.budget, c.perWalletCap, c.grantExpiryDays, c.createdBy, c.idempotencyKey, hash],
        );
        await recordEvent(client, c.cooperativeId, {
          type: 'campaign.created', aggregateId: c.id,
          payload: { campaignId: c.id, name: c.name, budget: formatMicros(c.budget), perWalletCap: formatMicros(c.perWalletCap), grantExpiryDays: c.grantExpiryDays, createdBy: c.createdBy },
        });
        return (await read('c.id = $1', c.id))!;
      },
    );
    return { campaign: toCampaign(row), created: !replayed };
  });
}

/** The campaign, locked against other batches until the transaction ends when `lock` is set. */
export async function readCampaign(client: PoolClient, campaignId: string, lock = false): Promise<Campaign | undefined> {
  const { rows } = await client.query<CampaignRow>(`${SELECT_CAMPAIGN} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [campaignId]);
  return rows[0] && toCampaign(rows[0]);
}

export function findCampaign(pool: Pool, cooperativeId: string, campaignId: string): Promise<Campaign | undefined> {
  return inTenantTransaction(pool, cooperativeId, (client) => readCampaign(client, campaignId));
}

export function listCampaigns(pool: Pool, cooperativeId: string, options: { limit: number; cursor?: string }): Promise<Page<Campaign>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<CampaignRow>(
      `${SELECT_CAMPAIGN} WHERE ${creationPosition.after('c.created_at', 'c.id', '$2', '$3')} ORDER BY c.created_at DESC, c.id DESC LIMIT $1`,
      [options.limit + 1, after?.micros ?? null, after?.id ?? null],
    );
    return toPage(rows, options.limit, (r) => [r.micros, r.id], toCampaign);
  });
}

interface GrantRow {
  campaign_id: string;
  member_id: string;
  amount: bigint;
  lot_id: string;
  transaction_id: string;
  expires_at: Date;
  granted_at: Date;
  micros: string;
}

const SELECT_GRANT = `
  SELECT g.campaign_id, g.member_id, g.amount, g.lot_id, g.transaction_id, l.expires_at, g.granted_at, ${creationPosition.micros('g.granted_at')} AS micros
    FROM campaign_grants g JOIN lots l ON l.id = g.lot_id`;

const toGrant = (r: GrantRow): CampaignGrant => ({
  campaignId: r.campaign_id, memberId: r.member_id, amount: r.amount, lotId: r.lot_id, transactionId: r.transaction_id,
  expiresAt: r.expires_at.toISOString(), grantedAt: r.granted_at.toISOString(),
});

/** The campaign's grants to these members (of those it has made). */
export async function grantsTo(client: PoolClient, campaignId: string, memberIds: readonly string[]): Promise<CampaignGrant[]> {
  const { rows } = await client.query<GrantRow>(`${SELECT_GRANT} WHERE g.campaign_id = $1 AND g.member_id = ANY($2::uuid[]) ORDER BY g.member_id`, [campaignId, memberIds]);
  return rows.map(toGrant);
}

/** The campaign's grants, newest first, paginated by cursor (the member id breaks ties of one batch). */
export function listGrants(pool: Pool, cooperativeId: string, campaignId: string, options: { limit: number; cursor?: string }): Promise<Page<CampaignGrant>> {
  const after = readCreationCursor(options.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<GrantRow>(
      `${SELECT_GRANT} WHERE g.campaign_id = $1 AND ${creationPosition.after('g.granted_at', 'g.member_id', '$3', '$4')}
        ORDER BY g.granted_at DESC, g.member_id DESC LIMIT $2`,
      [campaignId, options.limit + 1, after?.micros ?? null, after?.id ?? null],
    );
    return toPage(rows, options.limit, (r) => [r.micros, r.member_id], toGrant);
  });
}
