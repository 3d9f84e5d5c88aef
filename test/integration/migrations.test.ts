import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Client } from 'pg';
import { migrate, migrationsDir } from '../../db/migrate';
import { testConfig } from '../harness/stack';

/** Every migration goes down cleanly and comes back up, on a scratch database of the run's server. */
describe('migrations', () => {
  const base = new URL(testConfig().database.url);
  const scratch = `migrations_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const scratchUrl = Object.assign(new URL(base), { pathname: `/${scratch}` }).toString();
  const admin = new Client({ connectionString: base.toString() });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${scratch}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    await admin.end();
  });

  async function tables(): Promise<string[]> {
    const c = new Client({ connectionString: scratchUrl });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations' ORDER BY 1`);
      return rows.map((r) => r.tablename as string);
    } finally {
      await c.end();
    }
  }

  it('applies all, reverts all, and applies all again', async () => {
    const files = fs.readdirSync(migrationsDir).filter((f) => f.endsWith('.sql'));
    const up = await migrate(scratchUrl, 'up');
    expect(up).toHaveLength(files.length);
    const schema = await tables();
    expect(schema).toContain('cooperatives');

    expect(await migrate(scratchUrl, 'up')).toEqual([]);
    const down = await migrate(scratchUrl, 'down', files.length);
    expect(down).toEqual([...up].reverse());
    expect(await tables()).toEqual([]);

    expect(await migrate(scratchUrl, 'up')).toEqual(up);
    expect(await tables()).toEqual(schema);
  });
});
