import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createCooperativeActivities } from '../activities/cooperatives';
import * as ledger from '../db/ledger';
import { createMember } from '../db/members';
import { checksumAddress } from '../domain/identity';

/** A new active cooperative with `members` members, each minted `credits` (micro-CLOUD) of purchased credits: what the ledger benchmarks work on. */
export async function fundedCooperative(pool: Pool, name: string, members: number, credits = 1_000_000_000_000n): Promise<{ coop: string; members: string[] }> {
  const activities = createCooperativeActivities(pool);
  const coop = (await activities.createCooperative({ id: randomUUID(), slug: `bench-${randomUUID().slice(0, 8)}`, name })).id;
  await activities.openCooperativeLedger(coop);
  await activities.activateCooperative(coop);
  const ids: string[] = [];
  for (let i = 0; i < members; i++) {
    const address = checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`);
    const { member } = await createMember(pool, coop, { address });
    await ledger.mint(pool, { cooperativeId: coop, memberId: member.id, amount: credits, source: 'purchase', sourceId: `seed-${member.id}`, idempotencyKey: `seed-${member.id}` });
    ids.push(member.id);
  }
  return { coop, members: ids };
}
