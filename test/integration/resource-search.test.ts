import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { createResource, searchResources, searchStatement } from '../../db/resources';
import { scheduleRanges, weeklyRanges, WEEKDAYS, type AvailabilityWindow } from '../../domain/network/resources';
import { addMember, provisionCooperative } from '../harness/ledger';
import { testConfig } from '../harness/stack';

/**
 * Resource search's availability in SQL (db/resources.ts, the `week_schedule` multirange of decision
 * 0029): a slot is found when the weekly schedule covers the whole of it, across midnight and across the
 * end of the week, and no booking that holds its slot overlaps it. Each search names a word only this
 * file's resources carry, so other tests' resources do not show.
 */
let pool: Pool;
let owner: Pool;
let cooperativeId: string;
let memberId: string;
const word = `avail${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const ids = new Map<string, string>();

// 2030-01-07 is a Monday (minute 0 of the week, UTC).
const at = (day: number, hhmm: string) => new Date(`2030-01-${String(7 + day).padStart(2, '0')}T${hhmm}:00Z`);
const MON = 0;
const TUE = 1;
const WED = 2;
const SUN = 6;

const schedules: Record<string, AvailabilityWindow[]> = {
  midnight: [{ day: 'mon', from: '22:00', to: '24:00' }, { day: 'tue', from: '00:00', to: '02:00' }],
  weekEnd: [{ day: 'sun', from: '22:00', to: '24:00' }, { day: 'mon', from: '00:00', to: '02:00' }],
  sundayEvening: [{ day: 'sun', from: '22:00', to: '24:00' }],
  office: [{ day: 'mon', from: '08:00', to: '18:00' }],
  always: WEEKDAYS.map((day) => ({ day, from: '00:00', to: '24:00' })),
};

beforeAll(async () => {
  pool = createPool(testConfig().database.url, { max: 2 });
  owner = createPool(testConfig().database.ownerUrl, { max: 2 });
  cooperativeId = await provisionCooperative(owner);
  memberId = await addMember(owner, cooperativeId);
  for (const [name, schedule] of Object.entries(schedules)) {
    const { resource } = await createResource(pool, {
      id: randomUUID(), cooperativeId, type: 'space', title: `${name} ${word}`, description: 'A room', location: 'Lyon', schedule, ranges: scheduleRanges(schedule),
      accessModel: 'open', costModel: 'free', costAmount: 0n, createdBy: 'test', idempotencyKey: `search-${name}-${word}`,
    });
    ids.set(resource.id, name);
  }
});
afterAll(async () => {
  await pool.end();
  await owner.end();
});

/** The names of this file's resources free for the whole of [from, to), in the search's order (newest first). */
async function freeFor(from: Date, to: Date): Promise<string[]> {
  const page = await searchResources(pool, { text: word, available: { from, to, ranges: weeklyRanges(from, to) }, limit: 100 });
  return page.items.map((r) => ids.get(r.id)!).sort();
}

async function book(resource: string, from: Date, to: Date, status: 'confirmed' | 'cancelled'): Promise<void> {
  const id = [...ids].find(([, name]) => name === resource)![0];
  await owner.query(
    `INSERT INTO bookings (id, resource_id, owner_cooperative_id, requester_cooperative_id, requester_member_id, period, status, cost, idempotency_key, request_hash, decided_at)
     VALUES ($1, $2, $3, $3, $4, tstzrange($5, $6), $7, 0, $8, 'test', now())`,
    [randomUUID(), id, cooperativeId, memberId, from, to, status, `search-${randomUUID()}`],
  );
}

it('finds a slot only where the weekly schedule covers all of it, across midnight and the end of the week', async () => {
  expect((await searchResources(pool, { text: word, limit: 100 })).items).toHaveLength(5);
  // Windows that touch at midnight join: 23:00-01:00 is covered by Monday's evening and Tuesday's night.
  expect(await freeFor(at(MON, '23:00'), at(TUE, '01:00'))).toEqual(['always', 'midnight']);
  // Across the end of the week: Sunday's evening and Monday's night join too (the slot is two ranges).
  expect(await freeFor(at(SUN, '23:00'), new Date('2030-01-14T01:00:00Z'))).toEqual(['always', 'weekEnd']);
  // A slot ending at the very end of the week is one range, up to minute 10080.
  expect(await freeFor(at(SUN, '22:00'), new Date('2030-01-14T00:00:00Z'))).toEqual(['always', 'sundayEvening', 'weekEnd']);
  // The window's edges are in; a minute outside on either side is not.
  expect(await freeFor(at(MON, '08:00'), at(MON, '18:00'))).toEqual(['always', 'office']);
  expect(await freeFor(at(MON, '07:59'), at(MON, '09:00'))).toEqual(['always']);
  expect(await freeFor(at(MON, '17:00'), at(MON, '18:01'))).toEqual(['always']);
  // A whole week, from the middle of it: only a schedule covering every minute.
  expect(await freeFor(at(WED, '12:00'), new Date('2030-01-16T12:00:00Z'))).toEqual(['always']);
});

it('leaves out a resource whose slot a holding booking overlaps, and only then', async () => {
  await book('always', at(MON, '10:00'), at(MON, '11:00'), 'confirmed');
  await book('always', at(TUE, '10:00'), at(TUE, '11:00'), 'cancelled');
  expect(await freeFor(at(MON, '08:00'), at(MON, '18:00'))).toEqual(['office']);
  expect(await freeFor(at(MON, '10:59'), at(MON, '12:00'))).toEqual(['office']);
  // Touching the booking at either end is free.
  expect(await freeFor(at(MON, '09:00'), at(MON, '10:00'))).toEqual(['always', 'office']);
  expect(await freeFor(at(MON, '11:00'), at(MON, '12:00'))).toEqual(['always', 'office']);
  // A cancelled booking holds nothing.
  expect(await freeFor(at(TUE, '10:00'), at(TUE, '11:00'))).toEqual(['always']);
});

it('lets the planner estimate the schedule filter from statistics under row-level security, and probe bookings per resource', async () => {
  await owner.query('ANALYZE resources');
  const { rows: analyzed } = await owner.query<{ rows: number }>("SELECT reltuples::int AS rows FROM pg_class WHERE oid = 'resources'::regclass");
  const slot = '{[10079,10080)}';
  const estimate = async (asApplication: boolean) => {
    const client = await owner.connect();
    try {
      await client.query(asApplication ? "BEGIN; SET LOCAL ROLE coop_app; SET LOCAL app.scope = 'network'" : 'BEGIN');
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM resources WHERE availability @> $1::week_schedule`, [slot]);
      return (rows[0]['QUERY PLAN'] as Array<{ Plan: { 'Plan Rows': number } }>)[0]!.Plan['Plan Rows'];
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  };
  // Every schedule starts before the week's last minute: from the bounds' statistics, most rows. Without
  // them (int4multirange under row-level security), 0.5% of the rows whatever the slot: one row here.
  const byOwner = await estimate(false);
  expect(byOwner).toBeGreaterThan(Math.max(1, analyzed[0]!.rows * 0.005));
  expect(await estimate(true)).toBe(byOwner);

  const { text, values } = searchStatement({ text: word, available: { from: at(MON, '08:00'), to: at(MON, '10:00'), ranges: weeklyRanges(at(MON, '08:00'), at(MON, '10:00')) }, limit: 25 });
  const client = await owner.connect();
  try {
    await client.query("BEGIN; SET LOCAL ROLE coop_app; SET LOCAL app.scope = 'network'");
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('bookings');
    expect(plan).not.toMatch(/hashed SubPlan/);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

it('takes any words and location prefix as values, never as SQL, though they are inlined into one message', async () => {
  // Quotes, backslashes, placeholders and LIKE wildcards are the values' own characters, never SQL.
  const hostile = `${word} it's \\ "$1" $9 %_ '); DROP TABLE resources; --`;
  expect((await searchResources(pool, { text: hostile, location: hostile, limit: 5 })).items).toEqual([]);
  expect((await searchResources(pool, { text: word, location: 'LY', limit: 5 })).items).toHaveLength(5);
  expect((await searchResources(pool, { text: word, location: 'L_on', limit: 5 })).items).toEqual([]);
});
