import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { newGrants, type CampaignGrant, type GrantRequest } from '../../../domain/campaigns';
import { BusinessError } from '../../../domain/errors';
import type { LedgerTransaction } from '../../../domain/ledger-types';
import { cloudToUsd, formatMicros } from '../../../domain/money';
import { DAY_MS } from '../../../domain/time-bounds';
import { grantsTo, readCampaign } from '../../campaigns';
import { requireKey } from '../../idempotency';
import { toJsonParam } from '../../json';
import { inTenantTransaction } from '../../transaction';
import { idempotencyProbeStatement } from '../replay';
import { credit, debit } from '../postings';
import { runIdempotent } from '../run-operation';
import { writeTransaction, type NewLot } from '../write-transaction';

export interface GrantBatchRequest {
  cooperativeId: string;
  campaignId: string;
  grants: GrantRequest[];
  /** Who granted: recorded on the transaction. */
  actor: string;
  idempotencyKey: string;
}

export interface GrantBatchResult {
  /** The batch's transaction; null when every member in it had been granted already. */
  transaction: LedgerTransaction | null;
  replayed: boolean;
  /** The campaign's grant to each member of the batch. */
  grants: CampaignGrant[];
  /** How many of them this batch made. */
  created: number;
}

/**
 * Grants a batch of a campaign's credits, all or nothing, in one ledger transaction: one promotional
 * lot per member (source `grant`, source id `campaign:<id>:<member>`, which the database keeps unique),
 * expiring the campaign's number of days after the grant. CLOUD leg Dr 1900 / Cr each wallet; USD leg
 * Dr 5900 promotional expense / Cr 2230 (decision 0006). Under the campaign's row lock the batch is
 * checked as a whole (domain/campaigns.ts newGrants): a member granted before is that grant again, and
 * the new grants must fit the budget left, which the database also refuses to exceed. Members of
 * another cooperative are not found in this one, and the whole batch is refused.
 */
export async function grantBatch(pool: Pool, req: GrantBatchRequest): Promise<GrantBatchResult> {
  requireKey(req.idempotencyKey);
  const members = req.grants.map((g) => g.memberId);
  // A new batch whose members were all granted before writes nothing: their grants are the result.
  // A key used before replays its batch below.
  const before = await inTenantTransaction(pool, req.cooperativeId, async (client) => {
    const campaign = await readCampaign(client, req.campaignId);
    if (!campaign) throw new BusinessError('NOT_FOUND', 'Campaign not found');
    if ((await client.query(idempotencyProbeStatement(req.cooperativeId, [req.idempotencyKey]))).rows[0]) return undefined;
    const granted = await grantsTo(client, req.campaignId, members);
    return newGrants(campaign, req.grants, new Map(granted.map((g) => [g.memberId, g.amount]))).length === 0 ? granted : undefined;
  });
  if (before) return { transaction: null, replayed: true, grants: before, created: 0 };

  const system = [{ cooperative: 'cloudIssued' as const }, { cooperative: 'promotionalCredits' as const }, { cooperative: 'promotionalOutstanding' as const }];
  const spec = {
    accounts: [...system, ...req.grants.map((g) => ({ member: g.memberId, account: 'wallet' as const }))],
    lock: req.grants.map((_, i) => system.length + i),
  };
  const request = { campaignId: req.campaignId, grants: req.grants };
  const result = await runIdempotent(pool, req.cooperativeId, 'campaign-grant', req.idempotencyKey, request, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, now, accounts }) => {
    const [issued, expense, outstanding] = accounts;
    const walletOf = new Map(req.grants.map((g, i) => [g.memberId, accounts[system.length + i]!]));
    const campaign = (await readCampaign(client, req.campaignId, true))!;
    const granted = await grantsTo(client, req.campaignId, members);
    const fresh = newGrants(campaign, req.grants, new Map(granted.map((g) => [g.memberId, g.amount])));
    if (fresh.length === 0) throw new BusinessError('CONFLICT', 'Every member of the batch was granted meanwhile by another batch; send it again to see the grants');
    const total = fresh.reduce((a, g) => a + g.amount, 0n);
    const expiresAt = new Date(now.getTime() + campaign.grantExpiryDays * DAY_MS);
    const id = randomUUID();
    const lots: NewLot[] = fresh.map((g) => ({
      id: randomUUID(), accountId: walletOf.get(g.memberId)!.id, memberId: g.memberId, source: 'grant', sourceId: `campaign:${req.campaignId}:${g.memberId}`,
      category: 'promotional', priority: 100, expiresAt, parentLotId: null, amount: g.amount,
    }));
    const transaction = await writeTransaction(client, {
      id, cooperativeId, type: 'mint', idempotencyKey, requestHash,
      metadata: { source: 'grant', campaignId: req.campaignId, grants: fresh.length, total: formatMicros(total), expiresAt: expiresAt.toISOString(), actor: req.actor },
      entries: [debit(issued!, total), ...lots.map((l) => credit(walletOf.get(l.memberId)!, l.amount)), debit(expense!, cloudToUsd(total)), credit(outstanding!, cloudToUsd(total))],
      newLots: lots,
      movements: lots.map((l) => ({ lotId: l.id, amount: -l.amount })),
      events: lots.map((l) => ({
        type: 'cloud.minted' as const, aggregateId: l.memberId,
        payload: { transactionId: id, memberId: l.memberId, amount: formatMicros(l.amount), source: 'grant', sourceId: l.sourceId, campaignId: req.campaignId },
      })),
    });
    await client.query(
      `INSERT INTO campaign_grants (campaign_id, member_id, cooperative_id, amount, lot_id, transaction_id)
       SELECT $1, x.member_id, $2, x.amount, x.lot_id, $3 FROM jsonb_to_recordset($4::jsonb) AS x(member_id uuid, amount bigint, lot_id uuid)`,
      [req.campaignId, cooperativeId, id, toJsonParam(lots.map((l) => ({ member_id: l.memberId, amount: l.amount, lot_id: l.id })))],
    );
    await client.query('UPDATE campaigns SET granted = granted + $2 WHERE id = $1', [req.campaignId, total]);
    return transaction;
  });
  const grants = await inTenantTransaction(pool, req.cooperativeId, (client) => grantsTo(client, req.campaignId, members));
  return { transaction: result.transaction, replayed: result.replayed, grants, created: result.transaction.metadata.grants as number };
}
