import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';
import { figuresDir, readFigures, type Figure } from './figures';
import { log, machine } from './stack';
import { printTable } from './table';

/**
 * The end of `npm run bench`: every benchmark's figures in one table (figure, value, the reference
 * measured in the same run, their ratio, the aim), written as JSON and as a Markdown table for the
 * README. `node dist/bench/report.js start` clears the figures of an earlier run first.
 */
const REPORT_JSON = path.join(projectRoot, '.state', 'bench-report.json');
const REPORT_MD = path.join(projectRoot, '.state', 'bench-report.md');

const figure = (v: number, unit: string) => `${v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(v >= 10 ? 1 : 2)} ${unit}`;
const ratio = (f: Figure) => (f.reference && f.reference.value > 0 ? `${(f.value / f.reference.value).toFixed(2)}×` : '');

function main(): void {
  if (process.argv[2] === 'start') {
    fs.rmSync(figuresDir, { recursive: true, force: true });
    return;
  }
  const results = readFigures();
  if (results.length === 0) throw new Error(`no figures in ${figuresDir}: run a benchmark first (npm run bench)`);
  const rows = results.flatMap((r) =>
    r.figures.map((f) => [r.bench, f.name, figure(f.value, f.unit), f.reference ? `${f.reference.name}: ${figure(f.reference.value, f.unit)}` : '', ratio(f), f.aim ?? '']),
  );
  const header = ['bench', 'figure', 'value', 'reference (same run)', 'ratio', 'aim'];
  const ranOn = `${machine()}, ${new Date().toISOString().slice(0, 10)}`;
  log(`All figures of this run (${ranOn}):`);
  printTable(log, header, rows);
  fs.writeFileSync(REPORT_JSON, `${JSON.stringify({ machine: machine(), finishedAt: new Date().toISOString(), results }, null, 2)}\n`);
  const md = [`Measured on ${ranOn}:`, '', `| ${header.join(' | ')} |`, `|${header.map((_h, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
  fs.writeFileSync(REPORT_MD, md.join('\n'));
  log(`Written as JSON to ${path.relative(projectRoot, REPORT_JSON)} and as a Markdown table (for the README) to ${path.relative(projectRoot, REPORT_MD)}.`);
}

main();
