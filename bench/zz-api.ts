import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createCooperativeActivities } from '../activities/cooperatives';
import { signToken } from '../api/auth/tokens';
import * as ledger from '../db/ledger';
import { createMember } from '../db/members';
import { checksumAddress } from '../domain/identity';
import { freePort } from '../scripts/ports';
import { log, runBench, startBenchStack } from './stack';
import { countHits } from '../db/rate-limits';

runBench(async () => {
  const apiPort = await freePort();
  const u = '1000000000';
  const stack = await startBenchStack('zzapi', { API_HOST: '127.0.0.1', API_PORT: String(apiPort), RATE_LIMIT_MEMBER_QUERIES: u, RATE_LIMIT_PUBLIC: u, RATE_LIMIT_MEMBER_MUTATIONS: u });
  try {
    const api = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/zzprof', path.join(__dirname, '..', 'api', 'main.js')], { env: { ...stack.env, LOG_LEVEL: 'info' }, stdio: ['ignore', require('node:fs').openSync('/tmp/zzapi.log', 'w'), 'inherit'] });
    stack.onStop(async () => { api.kill('SIGTERM'); await new Promise((r) => api.once('exit', r)); });
    const base = `http://127.0.0.1:${apiPort}`;
    while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));
    const cooperatives = createCooperativeActivities(stack.owner);
    const coop = (await cooperatives.createCooperative({ id: randomUUID(), slug: `x-${randomUUID().slice(0, 8)}`, name: 'x' })).id;
    await cooperatives.openCooperativeLedger(coop);
    await cooperatives.activateCooperative(coop);
    const m = (await createMember(stack.owner, coop, { address: checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`) })).member.id;
    const m2 = (await createMember(stack.owner, coop, { address: checksumAddress(`0x${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 8)}`) })).member.id;
    await ledger.mint(stack.pool, { cooperativeId: coop, memberId: m, amount: 1_000_000_000_000n, source: 'grant', sourceId: 's', idempotencyKey: 's' });
    const token = await signToken(stack.config.jwt, { subject: m, role: 'member', cooperativeId: coop });
    const seq = async (name: string, f: () => Promise<Response>) => {
      for (let i = 0; i < 50; i++) await (await f()).arrayBuffer();
      const t0 = performance.now();
      for (let i = 0; i < 300; i++) await (await f()).arrayBuffer();
      log(`${name}: ${((performance.now() - t0) / 300).toFixed(2)} ms each`);
    };
    const auth = { authorization: `Bearer ${token}` };
    await seq('healthz', () => fetch(`${base}/healthz`));
    await seq('directory (public, limited by ip)', () => fetch(`${base}/v1/directory/cooperatives`));
    await seq('balance', () => fetch(`${base}/v1/cooperatives/${coop}/members/${m}/balance`, { headers: auth }));
    await seq('transfer', () => fetch(`${base}/v1/cooperatives/${coop}/transfers`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body: JSON.stringify({ toMemberId: m2, amount: '0.01' }) }));
    
    const t2 = performance.now();
    for (let i = 0; i < 300; i++) await countHits(stack.pool, [{ key: 'k', hits: 1 }], 60000);
    log(`countHits direct: ${((performance.now() - t2) / 300).toFixed(2)} ms each`);
    const t3 = performance.now();
    for (let i = 0; i < 300; i++) await stack.pool.query('SELECT 1');
    log(`select 1 direct: ${((performance.now() - t3) / 300).toFixed(2)} ms each`);
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) await ledger.memberBalance(stack.pool, coop, m);
    log(`memberBalance direct: ${((performance.now() - t0) / 300).toFixed(2)} ms each`);
    const t1 = performance.now();
    for (let i = 0; i < 300; i++) await ledger.transfer(stack.pool, { cooperativeId: coop, fromMemberId: m, toMemberId: m2, amount: 10_000n, idempotencyKey: randomUUID() });
    log(`transfer direct: ${((performance.now() - t1) / 300).toFixed(2)} ms each`);
  } finally { await stack.stop(); }
});
