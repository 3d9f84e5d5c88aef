import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { BusinessError } from '../domain/errors';
import type { Member } from '../domain/member';
import { openMemberAccounts } from './ledger/accounts';
import { inTenantTransaction } from './transaction';

interface MemberRow {
  id: string;
  cooperative_id: string;
  address: string;
  ens_name: string | null;
  display_name: string | null;
  created_at: Date;
}

const COLUMNS = 'id, cooperative_id, address, ens_name, display_name, created_at';

function toMember(r: MemberRow): Member {
  return { id: r.id, cooperativeId: r.cooperative_id, address: r.address, ensName: r.ens_name, displayName: r.display_name, createdAt: r.created_at.toISOString() };
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
