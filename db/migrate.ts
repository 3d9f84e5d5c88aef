import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { projectRoot } from '../config/project-root';

/** Plain SQL migrations (`-- Up Migration` / `-- Down Migration`), applied by node-pg-migrate. */
export const migrationsDir = path.join(projectRoot, 'db', 'migrations');

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
