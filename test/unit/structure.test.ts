import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../activities';

/**
 * The layering stays one-way: domain at the bottom, then db, activities and workflows; the shared
 * clients beneath both the API and the workers. Read from the sources' import statements.
 */
const root = path.join(__dirname, '..', '..');
const FOLDERS = ['domain', 'config', 'db', 'clients', 'activities', 'workflows', 'api', 'workers'] as const;
type Folder = (typeof FOLDERS)[number];

/** Which of the project's folders each folder may import from (besides itself). */
const MAY_IMPORT: Record<Folder, Folder[]> = {
  domain: [],
  config: [],
  db: ['domain', 'config'],
  clients: ['domain', 'config'],
  activities: ['db', 'domain', 'clients', 'config'],
  workflows: ['domain', 'activities'], // activities as types only (checked below)
  api: ['domain', 'db', 'clients', 'config', 'workflows'],
  workers: ['workflows', 'activities', 'clients', 'db', 'domain', 'config'],
};
/** Packages with I/O that pure or sandboxed code must never load. */
const IO_PACKAGES = /^(node:|pg$|stripe$|express$|@temporalio\/(client|worker|activity)$|fs$|path$|crypto$)/;

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function sources(folder: string): string[] {
  const dir = path.join(root, folder);
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) found.push({ file, specifier: m[3]!, typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/require(?:\.resolve)?\('([^']+)'\)/g)) found.push({ file, specifier: m[1]!, typeOnly: false });
  return found;
}

function folderOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.relative(root, path.resolve(path.dirname(file), specifier)).split(path.sep)[0];
}

describe('layering', () => {
  it.each(FOLDERS)('%s imports only from the folders beneath it', (folder) => {
    const wrong = sources(folder)
      .flatMap(importsOf)
      .filter((i) => {
        const target = folderOf(i.file, i.specifier);
        return target !== undefined && target !== folder && !MAY_IMPORT[folder].includes(target as Folder);
      })
      .map((i) => `${path.relative(root, i.file)} → ${i.specifier}`);
    expect(wrong).toEqual([]);
  });

  it('keeps domain and workflows free of I/O, and workflows import activities as types only', () => {
    const wrong = [...sources('domain'), ...sources('workflows')]
      .flatMap(importsOf)
      .filter((i) => (!i.typeOnly && IO_PACKAGES.test(i.specifier)) || (folderOf(i.file, i.specifier) === 'activities' && !i.typeOnly))
      .map((i) => `${path.relative(root, i.file)} → ${i.specifier}`);
    expect(wrong).toEqual([]);
  });

  it('builds every source folder (a file loaded only by path, like the payload converter, is not pulled in by imports)', () => {
    const build = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(FOLDERS.filter((folder) => !build.include.includes(folder))).toEqual([]);
  });

  it('registers exactly the activities some workflow calls', () => {
    const registered = Object.keys(createActivities({ pool: {} as never, stripe: {} as never, operations: {} as never, webhooks: { secretsKey: 'unused', allowPrivateTargets: false }, wake: {} as never, chain: {} as never, streams: { httpPriceSources: {}, driftThresholdBps: 1000 }, startStreamSampling: {} as never, startStreamReconciliation: {} as never })).sort();
    // A set: two workflows may call the same activity (a settlement's compensation, a booking's cancellation).
    const called = [...new Set(sources('workflows')
      .flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(/const \{([^}]+)\} = proxy(?:Local)?Activities/g)])
      .flatMap((m) => m[1]!.split(',').map((name) => name.trim())))]
      .sort();
    expect(registered).toEqual(called);
  });
});
