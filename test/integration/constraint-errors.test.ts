import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { CONSTRAINT_ERRORS } from '../../db/constraint-errors';
import { setDelegation } from '../../db/governance';
import { IDEMPOTENCY_KEY_CONSTRAINTS } from '../../db/idempotency';
import { createMember } from '../../db/members';
import { createPool } from '../../db/pool';
import { BusinessError } from '../../domain/errors';
import { addMember, provisionCooperative, randomAddress } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/** The one map from the database's guards to business errors names only guards the schema has, and each turns into its code. */
let pool: Pool;
beforeAll(() => {
  pool = createPool(testConfig().database.url, { max: 4 });
});
afterAll(() => pool.end());

async function schemaNames(): Promise<Set<string>> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
     UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`,
  );
  return new Set(rows.map((r) => r.name));
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => (err instanceof BusinessError ? err.code : String(err)),
  );
}

describe('constraint errors', () => {
  it('maps only constraints and indexes that exist, and knows every idempotency-key index', async () => {
    const names = await schemaNames();
    expect([...Object.keys(CONSTRAINT_ERRORS), ...IDEMPOTENCY_KEY_CONSTRAINTS].filter((n) => !names.has(n))).toEqual([]);
  });

  it('turns a delegation to a stranger into NOT_FOUND and a taken ENS name into CONFLICT', async () => {
    const coop = await provisionCooperative(pool);
    const member = await addMember(pool, coop);
    expect(await codeOf(setDelegation(pool, coop, member, randomUUID()))).toBe('NOT_FOUND');
    const ensName = `m${randomUUID().slice(0, 8)}.coop.eth`;
    await createMember(pool, coop, { address: randomAddress(), ensName });
    expect(await codeOf(createMember(pool, coop, { address: randomAddress(), ensName }))).toBe('CONFLICT');
  });
});
