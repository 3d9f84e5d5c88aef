import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createCooperativeActivities } from '../../activities/cooperatives';
import { createMember } from '../../db/members';
import { checksumAddress } from '../../domain/identity';

/** A cooperative with its chart of accounts and V1 rate card, provisioned by the real activities. */
export async function provisionCooperative(pool: Pool, slug = `t-${randomUUID().slice(0, 12)}`): Promise<string> {
  const activities = createCooperativeActivities(pool);
  const coop = await activities.createCooperative({ id: randomUUID(), slug, name: slug });
  await activities.openCooperativeLedger(coop.id);
  await activities.activateCooperative(coop.id);
  return coop.id;
}

export function randomAddress(): string {
  return checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`);
}

export async function addMember(pool: Pool, cooperativeId: string): Promise<string> {
  return (await createMember(pool, cooperativeId, { address: randomAddress() })).member.id;
}

export const cloud = (n: number | string) => BigInt(Math.round(Number(n) * 1_000_000));
