import { loadConfig } from '../config/config';
import { migrate } from '../db/migrate';

/** `npm run migrate -- up|down [count]` against DATABASE_URL (or the embedded default). */
async function main(): Promise<void> {
  const [direction = 'up', count] = process.argv.slice(2);
  if (direction !== 'up' && direction !== 'down') throw new Error('usage: npm run migrate -- up|down [count]');
  const config = loadConfig();
  const applied = await migrate(config.database.url, direction, count ? Number(count) : undefined, (m) => process.stdout.write(`${m}\n`));
  process.stdout.write(applied.length ? `${direction}: ${applied.join(', ')}\n` : 'nothing to do\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
