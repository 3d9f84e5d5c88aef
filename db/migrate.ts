import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { Client } from 'pg';
import { projectRoot } from '../config/project-root';

/** Plain SQL migrations (`-- Up Migration` / `-- Down Migration`), applied by node-pg-migrate. */
export const migrationsDir = path.join(projectRoot, 'db', 'migrations');

/** Lets coop_app log in with `password` (the application's role: not the owner, no BYPASSRLS). Run as the owner. */
export async function enableAppLogin(ownerUrl: string, password: string): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ sql: string }>("SELECT format('ALTER ROLE coop_app WITH LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', $1::text) AS sql", [password]);
    await client.query(rows[0]!.sql);
  } finally {
    await client.end();
  }
}

export async function migrate(databaseUrl: string, direction: 'up' | 'down' = 'up', count?: number, log: (msg: string) => void = () => undefined): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction,
    count: count ?? (direction === 'up' ? Infinity : 1),
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    log,
  });
  return applied.map((m) => m.name);
}
