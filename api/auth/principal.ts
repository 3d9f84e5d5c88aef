import type { Pool } from 'pg';
import { findCooperativeById } from '../../db/cooperatives';
import { activeMembersAmong } from '../../db/members';
import { isUuid } from '../../domain/ids';
import { ApiError } from '../errors';
import { groupedCalls } from '../grouped-calls';
import type { AuthContext } from './authenticate';

/** How long a verified principal is trusted without asking the database again. */
const VERIFIED_FOR_MS = 60_000;
const MAX_REMEMBERED = 100_000;
/** Member tokens checked in one query at most. */
const MEMBERS_PER_QUERY = 1_000;

/**
 * Identity is checked, not assumed: a validly signed token must also name who exists. A member token
 * names an active member of its cooperative (a deactivated one is refused within a minute); any other cooperative-bound token names an existing cooperative.
 * Principals verified in the last minute are remembered (members and cooperatives are never deleted).
 * New member tokens arriving together (a meeting where everyone votes) are checked in groups.
 */
export function principalVerifier(pool: Pool): (auth: AuthContext) => Promise<void> {
  const verified = new Map<string, number>();
  const memberCooperative = groupedCalls((keys) => activeMembersAmong(pool, keys.map((k) => k.key)), MEMBERS_PER_QUERY);
  return async (auth) => {
    if (!auth.cooperativeId) return;
    const key = `${auth.role}\n${auth.cooperativeId}\n${auth.subject}`;
    if ((verified.get(key) ?? 0) > Date.now()) return;
    if (auth.role === 'member') {
      if (!isUuid(auth.subject) || (await memberCooperative(auth.subject)).value !== auth.cooperativeId) {
        throw new ApiError('UNAUTHENTICATED', "The token's subject is not an active member of its cooperative");
      }
    } else if (!(await findCooperativeById(pool, auth.cooperativeId))) {
      throw new ApiError('UNAUTHENTICATED', "The token's cooperative does not exist");
    }
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(key, Date.now() + VERIFIED_FOR_MS);
  };
}
