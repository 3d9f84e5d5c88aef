import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import * as ledger from '../db/ledger';
import { percentile } from './percentile';

/** What the ledger benchmark and the ledger profile both run: the workloads, the measuring loop and pgbench. */

/** Seconds measured per figure, after a one-second warm-up. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const WARMUP_SECONDS = 1;

export type Op = (client: number, n: number) => Promise<unknown>;

export interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Every measured operation's latency in ms, sorted: runs can be pooled (`pooled`). */
  latencies: number[];
}

function figuresOf(latencies: number[], seconds: number, errors: number): Figures {
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, latencies };
}

/** Runs of the same workload and length as one: their operations per second of measuring, and percentiles over all. */
export function pooled(...runs: Figures[]): Figures {
  return figuresOf(runs.flatMap((r) => r.latencies), runs.length * SECONDS, runs.reduce((sum, r) => sum + r.errors, 0));
}

/** Distinct error messages seen while measuring, so a failing workload says why. */
export const errorMessages = new Map<string, number>();

/** Runs `op` from `clients` concurrent loops for the measured window (after a warm-up). */
export async function measure(clients: number, op: Op): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  const warmupEnd = performance.now() + WARMUP_SECONDS * 1000;
  const end = warmupEnd + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let n = 0; ; n++) {
        const t0 = performance.now();
        if (t0 >= end) break;
        try {
          await op(c, n);
        } catch (err) {
          errors++;
          const message = err instanceof Error ? err.message : String(err);
          errorMessages.set(message, (errorMessages.get(message) ?? 0) + 1);
        }
        const t1 = performance.now();
        if (t0 >= warmupEnd) {
          latencies.push(t1 - t0);
        }
      }
    }),
  );
  return figuresOf(latencies, SECONDS, errors);
}

export function pgbench(url: string, clients: number, logDir: string): Figures {
  const prefix = path.join(logDir, `pgbench-${clients}`);
  const result = spawnSync('pgbench', ['-n', '-b', 'tpcb-like', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(SECONDS), '-l', `--log-prefix=${prefix}`, url], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`pgbench failed: ${result.stderr}`);
  const latencies: number[] = [];
  for (const file of fs.readdirSync(logDir).filter((f) => f.startsWith(`pgbench-${clients}.`))) {
    for (const line of fs.readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      const micros = Number(line.split(' ')[2]);
      if (Number.isFinite(micros) && line) latencies.push(micros / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  const tps = Number(/tps = ([\d.]+)/.exec(result.stdout)?.[1] ?? NaN);
  return { opsPerSecond: tps, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors: 0, latencies };
}

/** The ledger operations measured, on one cooperative's members; `key` gives each call its own idempotency key. */
export function workloadsOf(pool: Pool, coop: string, members: string[], key: (kind: string, c: number, n: number) => string): Record<string, Op> {
  const pick = (c: number, n: number, k: number) => members[(c * 7919 + n * 104_729 + k * 31) % members.length]!;
  return {
    transfer: (c, n) => {
      const from = pick(c, n, 0);
      let to = pick(c, n, 1);
      if (to === from) to = members[(members.indexOf(from) + 1) % members.length]!;
      return ledger.transfer(pool, { cooperativeId: coop, fromMemberId: from, toMemberId: to, amount: 1_000n, idempotencyKey: key('t', c, n) });
    },
    'hold reserve+finalize': async (c, n) => {
      const { hold } = await ledger.reserveHold(pool, { cooperativeId: coop, memberId: pick(c, n, 2), amount: 5_000n, ttlSeconds: 60, idempotencyKey: key('h', c, n) });
      await ledger.resolveHold(pool, coop, hold.id, { kind: 'finalize', amount: 3_000n });
    },
    'usage redemption': (c, n) =>
      ledger.redeemUsage(pool, { cooperativeId: coop, memberId: pick(c, n, 3), primitive: 'transfer_gb', quantity: 10_000n, idempotencyKey: key('u', c, n) }),
  };
}

