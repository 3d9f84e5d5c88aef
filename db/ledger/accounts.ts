import { prepared } from '../prepared';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { COOPERATIVE_ACCOUNTS, MEMBER_ACCOUNTS, type AccountOwnerType, type AccountTemplate, type CooperativeAccountKey, type MemberAccountKey } from '../../domain/chart-of-accounts';
import { BusinessError } from '../../domain/errors';
import type { Currency } from '../../domain/money';
import { inTenantTransaction } from '../transaction';

/**
 * Account ids never change once opened, so each process remembers them: the hot path resolves a
 * wallet or a system account without a query.
 */
const known = new Map<string, string>();
const keyOf = (cooperativeId: string, code: string, memberId?: string) => `${cooperativeId}:${code}:${memberId ?? ''}`;

async function openAccounts(client: PoolClient, cooperativeId: string, templates: AccountTemplate[], memberId?: string): Promise<void> {
  const ownerType: AccountOwnerType = memberId ? 'member' : 'system';
  const conflict = memberId ? '(cooperative_id, code, member_id) WHERE member_id IS NOT NULL' : '(cooperative_id, code) WHERE member_id IS NULL AND counterparty_cooperative_id IS NULL';
  await client.query(
    `INSERT INTO accounts (id, cooperative_id, code, name, currency, type, owner_type, member_id, allow_negative, balance_shards)
     SELECT x.id, $1, x.code, x.name, x.currency, x.type, $2, $3, x.allow_negative, x.balance_shards
       FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, code text, name text, currency text, type text, allow_negative boolean, balance_shards smallint)
     ON CONFLICT ${conflict} DO NOTHING`,
    [
      cooperativeId,
      ownerType,
      memberId ?? null,
      JSON.stringify(templates.map((t) => ({ id: randomUUID(), code: t.code, name: t.name, currency: t.currency, type: t.type, allow_negative: t.allowNegative, balance_shards: t.balanceShards }))),
    ],
  );
}

/** The cooperative's chart of accounts (idempotent). */
export function openCooperativeAccounts(client: PoolClient, cooperativeId: string): Promise<void> {
  return openAccounts(client, cooperativeId, Object.values(COOPERATIVE_ACCOUNTS));
}

/** A member's wallet, staking and receivable accounts (idempotent). */
export function openMemberAccounts(client: PoolClient, cooperativeId: string, memberId: string): Promise<void> {
  return openAccounts(client, cooperativeId, Object.values(MEMBER_ACCOUNTS), memberId);
}

export type AccountRef = { cooperative: CooperativeAccountKey } | { member: string; account: MemberAccountKey };

/** A member's account by the code its entries record. */
export function memberAccountRef(memberId: string, code: string): AccountRef {
  const account = (Object.keys(MEMBER_ACCOUNTS) as MemberAccountKey[]).find((k) => MEMBER_ACCOUNTS[k].code === code);
  if (!account) throw new Error(`no member account has the code ${code}`);
  return { member: memberId, account };
}

export interface ResolvedAccount {
  id: string;
  code: string;
  currency: Currency;
  memberId: string | null;
}

function templateOf(ref: AccountRef): { template: AccountTemplate; memberId?: string } {
  return 'cooperative' in ref ? { template: COOPERATIVE_ACCOUNTS[ref.cooperative] } : { template: MEMBER_ACCOUNTS[ref.account], memberId: ref.member };
}

function wantedOf(refs: AccountRef[]) {
  return refs.map((ref) => {
    const { template, memberId } = templateOf(ref);
    return { code: template.code, currency: template.currency, memberId };
  });
}

/** The accounts from this process's memory, or undefined if any has not been seen yet. */
function fromMemory(cooperativeId: string, refs: AccountRef[]): ResolvedAccount[] | undefined {
  const found: ResolvedAccount[] = [];
  for (const w of wantedOf(refs)) {
    const id = known.get(keyOf(cooperativeId, w.code, w.memberId));
    if (!id) return undefined;
    found.push({ id, code: w.code, currency: w.currency, memberId: w.memberId ?? null });
  }
  return found;
}

/** The accounts for the references, in order, undefined where none is open (a member of another cooperative, or none). */
export async function findAccounts(client: PoolClient, cooperativeId: string, refs: AccountRef[]): Promise<Array<ResolvedAccount | undefined>> {
  const wanted = wantedOf(refs);
  const unknown = wanted.filter((w) => !known.has(keyOf(cooperativeId, w.code, w.memberId)));
  if (unknown.length > 0) {
    const { rows } = await client.query<{ id: string; code: string; member_id: string | null }>(
      `SELECT a.id, a.code, a.member_id FROM accounts a
         JOIN jsonb_to_recordset($2::jsonb) AS w(code text, member_id uuid) ON a.code = w.code AND a.member_id IS NOT DISTINCT FROM w.member_id
        WHERE a.cooperative_id = $1`,
      [cooperativeId, JSON.stringify(unknown.map((m) => ({ code: m.code, member_id: m.memberId ?? null })))],
    );
    for (const r of rows) known.set(keyOf(cooperativeId, r.code, r.member_id ?? undefined), r.id);
  }
  return wanted.map((w) => {
    const id = known.get(keyOf(cooperativeId, w.code, w.memberId));
    return id === undefined ? undefined : { id, code: w.code, currency: w.currency, memberId: w.memberId ?? null };
  });
}

/** The accounts for the references, in order; NOT_FOUND names the first that does not exist. */
export async function resolveAccounts(client: PoolClient, cooperativeId: string, refs: AccountRef[]): Promise<ResolvedAccount[]> {
  const remembered = fromMemory(cooperativeId, refs);
  if (remembered) return remembered;
  const found = await findAccounts(client, cooperativeId, refs);
  const missing = wantedOf(refs).find((_, i) => found[i] === undefined);
  if (missing) throw new BusinessError('NOT_FOUND', missing.memberId ? `Member ${missing.memberId} not found in this cooperative` : `Account ${missing.code} is not open in this cooperative`);
  return found as ResolvedAccount[];
}

/** Like resolveAccounts, from memory when it can, otherwise in a short read transaction of its own. */
export async function resolveAccountsCached(pool: Pool, cooperativeId: string, refs: AccountRef[]): Promise<ResolvedAccount[]> {
  return fromMemory(cooperativeId, refs) ?? inTenantTransaction(pool, cooperativeId, (client) => resolveAccounts(client, cooperativeId, refs));
}

/** lockAccounts as a statement for a transaction's opening batch (ids are our own UUIDs, checked). */
const lockInOrder = prepared('ledger_lock_accounts', 'SELECT pg_advisory_xact_lock(hashtextextended(id::text, 0)) FROM unnest($1::uuid[]) AS id');
export function lockAccountsStatement(accountIds: string[]): string {
  // unnest yields the array in order, so the locks are taken in id order.
  return lockInOrder([...new Set(accountIds)].sort());
}

/**
 * Locks member accounts, in id order, before their lots are read: every operation on a wallet takes
 * this lock first, so lots are never read stale and lock order never inverts (no deadlocks). These are
 * transaction-scoped advisory locks keyed by account id, so the `coop_app` role needs no UPDATE right on
 * accounts; the database's CHECK constraints still refuse an overspend should anything bypass them.
 */
export async function lockAccounts(client: PoolClient, accountIds: string[]): Promise<void> {
  await client.query(lockAccountsStatement(accountIds));
}

