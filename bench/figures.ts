import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';

/**
 * One measured figure of a benchmark, next to the reference it is compared with (measured in the same
 * run on the same machine) and the aim. `npm run bench` gathers every benchmark's figures into
 * one table (bench/report.ts).
 */
export interface Figure {
  /** What was measured, with its load: "transfers, 16 clients". */
  name: string;
  value: number;
  /** "ops/s", "ms p99", "s". */
  unit: string;
  reference?: { name: string; value: number };
  /** The aim as people read it: ">= 0.70x pgbench", "p95 <= 200 ms". */
  aim?: string;
}

export interface BenchResult {
  bench: string;
  finishedAt: string;
  figures: Figure[];
}

export const figuresDir = path.join(projectRoot, '.state', 'bench-figures');

/** Writes a benchmark's figures for the report; a rerun of one benchmark replaces its own. */
export function recordFigures(bench: string, figures: Figure[]): void {
  fs.mkdirSync(figuresDir, { recursive: true });
  const result: BenchResult = { bench, finishedAt: new Date().toISOString(), figures };
  fs.writeFileSync(path.join(figuresDir, `${bench}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

/** Every benchmark's last figures, in the order they finished. */
export function readFigures(): BenchResult[] {
  if (!fs.existsSync(figuresDir)) return [];
  return fs
    .readdirSync(figuresDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(figuresDir, f), 'utf8')) as BenchResult)
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}
