import { parseArgs } from 'node:util';
import { signToken } from '../api/auth/tokens';
import { loadConfig } from '../config/config';
import { ROLES, type Role } from '../domain/roles';

/** Prints a signed bearer token for local use: `npm run token -- --role member --coop <id> --sub <memberId>`. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'operator' },
      coop: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const token = await signToken(loadConfig().jwt, { subject: values.sub ?? `local-${role}`, role, ...(values.coop ? { cooperativeId: values.coop } : {}) }, values.ttl === undefined ? undefined : Number(values.ttl));
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
