import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EnvSchema } from '../../config/config';
import { projectRoot } from '../../config/project-root';

/** No Docker engine runs here, so the compose file is checked against the config schema instead. */
describe('docker-compose.yml', () => {
  interface Service {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    healthcheck?: { test: unknown };
    restart?: string;
    depends_on?: Record<string, { condition: string }>;
  }
  const compose = parse(fs.readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const appServices = ['migrate', 'worker', 'api'];
  const known = new Set(Object.keys(EnvSchema.shape));

  it('describes PostgreSQL, Temporal on it, the UI, the API and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'temporal', 'temporal-ui', 'worker']);
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
  });

  it('gives every long-running service a health check, and restarts it when it exits', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'worker', 'api']) {
      expect(services[name]?.healthcheck?.test).toBeDefined();
      expect({ name, restart: services[name]?.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
  });

  it('uses only variable names the config module knows, and the ones it needs', () => {
    for (const name of appServices) {
      const env = services[name]?.environment ?? {};
      const unknown = Object.keys(env).filter((k) => !known.has(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
      for (const required of ['NODE_ENV', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'JWT_MEMBER_SECRET', 'JWT_ADMIN_SECRET', 'JWT_SERVICE_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'CHAIN_RPC_URL', 'SUPERFLUID_HOST_ADDRESS']) {
        expect(Object.keys(env)).toContain(required);
      }
    }
  });

  it('runs the entry points the build produces', () => {
    const built = { migrate: 'dist/scripts/migrate.js', worker: 'dist/workers/main.js', api: 'dist/api/main.js' } as const;
    for (const [name, entry] of Object.entries(built)) {
      expect(services[name]?.command).toEqual(['node', entry, ...(name === 'migrate' ? ['up'] : [])]);
      const source = path.join(projectRoot, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      expect(fs.existsSync(source)).toBe(true);
    }
    expect(services.api?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });
});
