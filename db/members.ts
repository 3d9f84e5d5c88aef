import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { MemberClaimKey } from '../domain/federation';
import { isUuid } from '../domain/ids';
import type { Member, MemberStatus } from '../domain/member';
import { creationPosition, readCreationCursor, toPage, type Page } from './cursor';
import { lockAccountsStatement, openMemberAccounts, resolveAccounts } from './ledger/accounts';
import { inTenantTransaction, readInNetwork } from './transaction';

interface MemberRow {
  id: string;
  cooperative_id: string;
  address: string;
  ens_name: string | null;
  display_name: string | null;
  status: MemberStatus;
  created_at: Date;
  deactivated_at: Date | null;
  position?: string;
}

const COLUMNS = 'id, cooperative_id, address, ens_name, display_name, status, created_at, deactivated_at';

function toMember(r: MemberRow): Member {
  return {
    id: r.id, cooperativeId: r.cooperative_id, address: r.address, ensName: r.ens_name, displayName: r.display_name, status: r.status,
    createdAt: r.created_at.toISOString(), deactivatedAt: r.deactivated_at?.toISOString() ?? null,
  };
}

/**
 * Adds a member (address already checksummed, ENS name normalised) and opens their accounts. The
 * address is the business key within the cooperative: a repeat returns the member, and the same
 * address with other details is a conflict.
 */
export function createMember(pool: Pool, cooperativeId: string, input: { address: string; ensName?: string; displayName?: string }): Promise<{ member: Member; created: boolean }> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<MemberRow>(
      `INSERT INTO members (id, cooperative_id, address, ens_name, display_name) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (cooperative_id, address) DO NOTHING RETURNING ${COLUMNS}`,
      [randomUUID(), cooperativeId, input.address, input.ensName ?? null, input.displayName ?? null],
    );
    if (rows[0]) {
      await openMemberAccounts(client, cooperativeId, rows[0].id);
      return { member: toMember(rows[0]), created: true };
    }
    const existing = (await client.query<MemberRow>(`SELECT ${COLUMNS} FROM members WHERE cooperative_id = $1 AND address = $2`, [cooperativeId, input.address])).rows[0]!;
    if (existing.ens_name !== (input.ensName ?? null) || existing.display_name !== (input.displayName ?? null)) {
      throw new BusinessError('CONFLICT', 'A member with this address already exists with other details');
    }
    return { member: toMember(existing), created: false };
  });
}

/** Which of `ids` (UUIDs) are members of the cooperative. */
export function existingMembers(pool: Pool, cooperativeId: string, ids: string[]): Promise<Set<string>> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM members WHERE id = ANY($1::uuid[])', [ids]);
    return new Set(rows.map((r) => r.id));
  });
}

/** Which of `ids` (UUIDs) are active members, with the cooperative of each: one round trip for a group of token checks (api/auth/principal.ts). */
export async function activeMembersAmong(pool: Pool, ids: string[]): Promise<Map<string, string>> {
  const [result] = await readInNetwork(pool, [{ text: "SELECT id, cooperative_id FROM members WHERE id = ANY($1::uuid[]) AND status = 'active'", values: [ids] }]);
  return new Map((result!.rows as Array<{ id: string; cooperative_id: string }>).map((r) => [r.id, r.cooperative_id]));
}

export function findMember(pool: Pool, cooperativeId: string, memberId: string): Promise<Member | undefined> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<MemberRow>(`SELECT ${COLUMNS} FROM members WHERE id = $1`, [memberId]);
    return rows[0] && toMember(rows[0]);
  });
}

/** The member whose id, address or ENS name is `key` (a federated identity's member claim, decision 0023). */
export function findMemberByKey(pool: Pool, cooperativeId: string, by: MemberClaimKey, key: string): Promise<Member | undefined> {
  if (by === 'id' && !isUuid(key)) return Promise.resolve(undefined);
  const column = { id: 'id', address: 'lower(address)', ens_name: 'ens_name' }[by];
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<MemberRow>(`SELECT ${COLUMNS} FROM members WHERE ${column} = $1`, [by === 'address' ? key.toLowerCase() : key]);
    return rows[0] && toMember(rows[0]);
  });
}

export interface MemberListFilter {
  status?: MemberStatus;
  createdFrom?: string;
  createdBefore?: string;
  limit: number;
  cursor?: string;
}

/** A cooperative's members, newest first. */
export function listMembers(pool: Pool, cooperativeId: string, filter: MemberListFilter): Promise<Page<Member>> {
  const after = readCreationCursor(filter.cursor);
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<MemberRow>(
      `SELECT ${COLUMNS}, ${creationPosition.micros('created_at')} AS position FROM members
        WHERE ($1::text IS NULL OR status = $1) AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
          AND ${creationPosition.after('created_at', 'id', '$4', '$5')}
        ORDER BY created_at DESC, id DESC LIMIT $6`,
      [filter.status ?? null, filter.createdFrom ?? null, filter.createdBefore ?? null, after?.micros ?? null, after?.id ?? null, filter.limit + 1],
    );
    return toPage(rows, filter.limit, (r) => [r.position!, r.id], toMember);
  });
}

/** Changes a member's display name and/or ENS name (null clears one; absent leaves it). */
export function updateMember(pool: Pool, cooperativeId: string, memberId: string, change: { displayName?: string | null; ensName?: string | null }): Promise<Member> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const { rows } = await client.query<MemberRow>(
      `UPDATE members SET display_name = CASE WHEN $2 THEN $3 ELSE display_name END, ens_name = CASE WHEN $4 THEN $5 ELSE ens_name END
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [memberId, change.displayName !== undefined, change.displayName ?? null, change.ensName !== undefined, change.ensName ?? null],
    );
    if (!rows[0]) throw new BusinessError('NOT_FOUND', 'Member not found');
    return toMember(rows[0]);
  });
}

/**
 * Deactivates or reactivates a member; setting the status they have changes nothing. Deactivation takes
 * the wallet's lock, which every hold takes first, and is refused while a hold is open: the credits it
 * reserves belong to a charge in flight. The balance stays (decision 0023).
 */
export function setMemberStatus(pool: Pool, cooperativeId: string, memberId: string, status: MemberStatus): Promise<Member> {
  return inTenantTransaction(pool, cooperativeId, async (client) => {
    const [wallet] = await resolveAccounts(client, cooperativeId, [{ member: memberId, account: 'wallet' }]);
    await client.query(lockAccountsStatement([wallet!.id]));
    if (status === 'deactivated') {
      const open = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM holds WHERE member_id = $1 AND status = 'open'`, [memberId]);
      if (open.rows[0]!.n > 0) throw new BusinessError('CONFLICT', `The member has ${open.rows[0]!.n} open hold(s): finalize or release them first`);
    }
    const { rows } = await client.query<MemberRow>(
      `UPDATE members SET status = $2, deactivated_at = CASE WHEN $2 = 'deactivated' THEN now() END
        WHERE id = $1 AND status <> $2 RETURNING ${COLUMNS}`,
      [memberId, status],
    );
    if (rows[0]) return toMember(rows[0]);
    return toMember((await client.query<MemberRow>(`SELECT ${COLUMNS} FROM members WHERE id = $1`, [memberId])).rows[0]!);
  });
}
