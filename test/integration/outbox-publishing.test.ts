import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { publishEvents, readEvents } from '../../db/outbox';
import { createPool } from '../../db/pool';
import { secretBox } from '../../db/secret-box';
import { pendingDeliveries } from '../../db/webhook-deliveries';
import { createEndpoint, setEndpointStatus } from '../../db/webhook-endpoints';
import type { EventType } from '../../domain/events';
import { eventually } from '../harness/eventually';
import { provisionCooperative } from '../harness/ledger';
import { applicationConfig, testConfig } from '../harness/stack';

/**
 * Reading the outbox in order (db/outbox.ts): a reader never has an event appear behind its position,
 * however late the event's transaction commits, and publishing fans each settled event out once to the
 * endpoints that subscribe to it. Other test files write events at the same time, so every check looks
 * at this file's own events and waits for its own to settle.
 */
let owner: Pool;
let app: Pool;
const box = secretBox(testConfig().webhooks.secretsKey);

beforeAll(() => {
  owner = createPool(testConfig().database.url, { max: 4 });
  app = createPool(applicationConfig().database.url, { max: 4 });
});
afterAll(async () => {
  await Promise.all([owner?.end(), app?.end()]);
});

const insertEvent = (db: Pick<Pool, 'query'>, coop: string, type: EventType, aggregateId: string) =>
  db.query(`INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload) VALUES ($1, $2, $3, '{}')`, [coop, type, aggregateId]);

async function allEvents(coop: string, after?: string) {
  const aggregates: string[] = [];
  let cursor = after;
  for (;;) {
    const page = await readEvents(app, coop, { cursor, limit: 2 });
    aggregates.push(...page.items.map((e) => e.aggregateId));
    cursor = page.nextCursor ?? undefined;
    if (!page.hasMore) return { aggregates, cursor };
  }
}

it('shows an event only once every transaction that could come before it has finished, so a cursor never skips a late commit', async () => {
  const coop = await provisionCooperative(owner);
  const { cursor: start } = await eventually(() => allEvents(coop), (r) => r.aggregates.length === 1); // provisioning's rate card
  const early = await owner.connect();
  try {
    await early.query('BEGIN');
    await insertEvent(early, coop, 'cloud.minted', 'early'); // its transaction id is taken now...
    await insertEvent(owner, coop, 'cloud.minted', 'late'); // ...and this one's after it, but commits first
    const whileOpen = await allEvents(coop, start);
    expect(whileOpen.aggregates).toEqual([]);
    expect(whileOpen.cursor).toBe(start);
    await early.query('COMMIT');
  } finally {
    early.release();
  }
  const after = await eventually(() => allEvents(coop, start), (r) => r.aggregates.length === 2);
  expect(after.aggregates).toEqual(['early', 'late']);
  // Paging on from the end finds nothing new, and keeps its place.
  expect(await allEvents(coop, after.cursor)).toEqual({ aggregates: [], cursor: after.cursor });
});

it('refuses a cursor it did not make', async () => {
  const coop = await provisionCooperative(owner);
  for (const cursor of ['x', Buffer.from('["1"]').toString('base64url'), Buffer.from('["1","2; DROP"]').toString('base64url')]) {
    await expect(readEvents(app, coop, { cursor, limit: 1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  }
});

it('publishes each settled event once, to every active endpoint of its cooperative that subscribes to its type', async () => {
  const [coop, other] = await Promise.all([provisionCooperative(owner), provisionCooperative(owner)]);
  const endpoint = async (cooperativeId: string, eventTypes: Parameters<typeof createEndpoint>[2]['eventTypes']) =>
    (await createEndpoint(app, box, { cooperativeId, url: 'https://example.org/hook', eventTypes, idempotencyKey: randomUUID() })).endpoint.id;
  const minted = await endpoint(coop, ['cloud.minted']);
  const everything = await endpoint(coop, ['*']);
  const disabled = await endpoint(coop, ['cloud.minted']);
  const elsewhere = await endpoint(other, ['*']);
  await setEndpointStatus(app, coop, disabled, 'disabled');
  for (const [type, aggregate] of [['cloud.minted', 'a'], ['cloud.transferred', 'a'], ['cloud.minted', 'b'], ['cloud.minted', 'a']] as const) await insertEvent(owner, coop, type, aggregate);

  const unpublished = async () => (await owner.query(`SELECT count(*)::int AS n FROM outbox WHERE cooperative_id = $1 AND published_at IS NULL`, [coop])).rows[0].n as number;
  // Another test's relay may publish them first; either way they end up published once.
  await eventually(async () => (await publishEvents(app, 500), unpublished()), (n) => n === 0);
  await publishEvents(app, 500);

  const { rows } = await owner.query(
    `SELECT d.endpoint_id, o.event_type, o.aggregate_id, d.status FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
      WHERE d.cooperative_id = ANY($1) AND o.aggregate_id IN ('a', 'b') ORDER BY o.xid, o.id`,
    [[coop, other]],
  );
  const to = (id: string) => rows.filter((r) => r.endpoint_id === id).map((r) => `${r.event_type} ${r.aggregate_id}`);
  expect(to(minted)).toEqual(['cloud.minted a', 'cloud.minted b', 'cloud.minted a']);
  expect(to(everything)).toEqual(['cloud.minted a', 'cloud.transferred a', 'cloud.minted b', 'cloud.minted a']);
  expect(to(disabled)).toEqual([]);
  expect(to(elsewhere)).toEqual([]);
  expect(rows.every((r) => r.status === 'pending')).toBe(true);
  // The delivery workflow takes them in the order their events were committed.
  const pending = await pendingDeliveries(app, { endpointId: everything, cooperativeId: coop }, 10);
  const { rows: ordered } = await owner.query(`SELECT d.id::text AS id FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.endpoint_id = $1 ORDER BY o.xid, o.id`, [everything]);
  expect(pending).toEqual(ordered.map((r) => r.id));
});
