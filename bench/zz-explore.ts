import { randomUUID } from 'node:crypto';
import { createCooperativeActivities } from '../activities/cooperatives';
import * as ledger from '../db/ledger';
import { createMember } from '../db/members';
import { checksumAddress } from '../domain/identity';
import { log, runBench, startBenchStack } from './stack';

runBench(async () => {
  const stack = await startBenchStack('explore');
  const { owner, pool } = stack;
  try {
    const cooperatives = createCooperativeActivities(owner);
    const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `x-${randomUUID().slice(0, 8)}`, name: 'x' })).id;
    await cooperatives.openCooperativeLedger(coop);
    await cooperatives.activateCooperative(coop);
    const members: string[] = [];
    for (let i = 0; i < 64; i++) members.push((await createMember(owner, coop, { address: checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`) })).member.id);
    for (const m of members) for (let i = 0; i < 3; i++) await ledger.mint(pool, { cooperativeId: coop, memberId: m, amount: 1_000_000_000n, source: 'grant', sourceId: `s-${m}-${i}`, idempotencyKey: `s-${m}-${i}` });
    const time = async (name: string, n: number, conc: number, f: (i: number) => Promise<unknown>) => {
      let next = 0; const t0 = performance.now();
      await Promise.all(Array.from({ length: conc }, async () => { for (let i = next++; i < n; i = next++) await f(i); }));
      const s = (performance.now() - t0) / 1000; log(`${name}: ${(n / s).toFixed(0)}/s (${conc} concurrent)`);
    };
    const wallets = (await owner.query(`SELECT id FROM accounts WHERE cooperative_id = $1 AND code = '2100' AND member_id IS NOT NULL`, [coop])).rows.map((r) => r.id);
    const lotsSql = (w: string) => `SELECT id, source, source_id, category, priority, expires_at, original, available, reserved FROM lots WHERE account_id = '${w}' AND (available > 0 OR reserved > 0) ORDER BY priority, expires_at NULLS LAST, category DESC, created_at, id LIMIT 100`;
    const scope = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL ROLE coop_app; SET LOCAL app.cooperative_id = '${coop}'`;
    for (let round = 0; round < 1; round++) {
      await time('memberBalance', 3000, 16, (i) => ledger.memberBalance(pool, coop, members[i % 64]!));
      await time('select 1', 3000, 16, () => pool.query('SELECT 1'));
      await time('scope only (one message)', 3000, 16, async () => { const c = await pool.connect(); try { await c.query(`${scope}; COMMIT`); } finally { c.release(); } });
      await time('scope + lots x4 simple', 3000, 16, async (i) => { const c = await pool.connect(); try { const q = lotsSql(wallets[i % 64]); await c.query(`${scope}; ${q}; ${q}; ${q}; ${q}; COMMIT`); } finally { c.release(); } });
      const prepared = new WeakSet<object>();
      await time('scope + lots x4 EXECUTE prepared', 3000, 16, async (i) => {
        const c = await pool.connect();
        try {
          if (!prepared.has(c)) { await c.query(`PREPARE zz_lots(uuid) AS ${lotsSql('x').replace(`'x'`, '$1')}`); prepared.add(c); }
          const q = `EXECUTE zz_lots('${wallets[i % 64]}')`;
          await c.query(`${scope}; ${q}; ${q}; ${q}; ${q}; COMMIT`);
        } finally { c.release(); }
      });
    }
  } finally { await stack.stop(); }
});
