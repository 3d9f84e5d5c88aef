import { loadConfig } from '../config/config';
import { enableAppLogin, migrate } from '../db/migrate';

/** `npm run migrate -- up|down [count]` as the owner (DATABASE_OWNER_URL, else DATABASE_URL, or the embedded default); `up` also sets coop_app's login password when DATABASE_APP_PASSWORD is given. */
async function main(): Promise<void> {
  const [direction = 'up', count] = process.argv.slice(2);
  if (direction !== 'up' && direction !== 'down') throw new Error('usage: npm run migrate -- up|down [count]');
  const config = loadConfig();
  const applied = await migrate(config.database.ownerUrl, direction, count ? Number(count) : undefined, (m) => process.stdout.write(`${m}\n`));
  if (direction === 'up' && config.database.appPassword) await enableAppLogin(config.database.ownerUrl, config.database.appPassword);
  process.stdout.write(applied.length ? `${direction}: ${applied.join(', ')}\n` : 'nothing to do\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
