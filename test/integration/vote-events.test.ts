import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { castVote, castVotes } from '../../db/proposal-votes';
import { addMember, provisionCooperative } from '../harness/ledger';
import { applicationConfig, testConfig } from '../harness/stack';

/**
 * The vote_cast governance event is part of the vote's own transaction (db/proposal-votes.ts castVote):
 * a vote that does not commit leaves no event, a replayed vote writes none twice, and each change of a
 * vote is one more event, each reaching the outbox with it.
 */
let owner: Pool;
let app: Pool;
let coop: string;

beforeAll(async () => {
  owner = createPool(testConfig().database.url, { max: 2 });
  app = createPool(applicationConfig().database.url, { max: 4 });
  coop = await provisionCooperative(owner);
});
afterAll(async () => {
  await Promise.all([owner?.end(), app?.end()]);
});

/** An open proposal of `coop` alone, majority, whose electorate is `voters` (written as the opening writes it). */
async function openProposal(voters: string[]): Promise<string> {
  const id = randomUUID();
  const closesAt = new Date(Date.now() + 3_600_000);
  await owner.query(
    `INSERT INTO proposals (id, origin_cooperative_id, stakeholders, title, description, proposer, status, closes_at, opened_at, idempotency_key, request_hash)
     VALUES ($1, $2, ARRAY[$2::uuid], 'vote events', '', 'test', 'open', $3, now(), $4, 'test')`,
    [id, coop, closesAt, `test:${id}`],
  );
  await owner.query(
    `INSERT INTO proposal_stakeholders (proposal_id, cooperative_id, model, settings, votes_public, members, total_weight, closes_at)
     VALUES ($1, $2, 'majority', '{"model":"majority"}', false, $3::int, $3::int, $4)`,
    [id, coop, voters.length, closesAt],
  );
  for (const m of voters) await owner.query('INSERT INTO proposal_electorate (proposal_id, member_id, cooperative_id, weight) VALUES ($1, $2, $3, 1)', [id, m, coop]);
  return id;
}

const voteEvents = async (proposalId: string, memberId: string) =>
  (
    await owner.query<{ choice: string; version: number; key: string }>(
      `SELECT payload->>'choice' AS choice, (payload->>'version')::int AS version, idempotency_key AS key FROM economic_events
        WHERE type = 'vote_cast' AND aggregate_id = $1 AND payload->>'memberId' = $2 ORDER BY sequence`,
      [proposalId, memberId],
    )
  ).rows;

const outboxEvents = async (proposalId: string) =>
  Number((await owner.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE event_type = 'economic_event.recorded' AND aggregate_id = $1 AND payload->>'type' = 'vote_cast'`, [proposalId])).rows[0]!.n);

it('writes one vote_cast event per vote and per change, none for a replay, keyed by the vote', async () => {
  const member = await addMember(owner, coop);
  const proposal = await openProposal([member]);
  const vote = (choice: 'yes' | 'no') => castVote(app, { proposalId: proposal, cooperativeId: coop, memberId: member, choice });

  await vote('yes');
  await vote('yes'); // a replay
  await Promise.all([vote('yes'), vote('yes')]); // concurrent duplicates
  expect(await voteEvents(proposal, member)).toEqual([{ choice: 'yes', version: 1, key: `vote:${proposal}:${member}:1` }]);

  await vote('no'); // a change is a new event
  await vote('no');
  await vote('yes'); // and changing back another
  expect((await voteEvents(proposal, member)).map((e) => [e.choice, e.version])).toEqual([['yes', 1], ['no', 2], ['yes', 3]]);
  expect(await outboxEvents(proposal)).toBe(3);
});

it('writes no event for a vote whose transaction fails, and no vote for an event that cannot be written', async () => {
  const [refused, failing] = [await addMember(owner, coop), await addMember(owner, coop)];
  const proposal = await openProposal([failing]);

  // Refused before the write (not in the electorate): nothing at all.
  await expect(castVote(app, { proposalId: proposal, cooperativeId: coop, memberId: refused, choice: 'yes' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  expect(await voteEvents(proposal, refused)).toEqual([]);

  // The event's insert fails inside the vote's transaction: the vote is rolled back with it.
  const trigger = `vote_event_fails_${randomUUID().replace(/-/g, '')}`;
  await owner.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.payload->>'memberId' = '${failing}' THEN RAISE EXCEPTION 'event refused'; END IF; RETURN NEW; END $$`);
  await owner.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON economic_events FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
  try {
    await expect(castVote(app, { proposalId: proposal, cooperativeId: coop, memberId: failing, choice: 'no' })).rejects.toThrow();
  } finally {
    await owner.query(`DROP TRIGGER ${trigger} ON economic_events; DROP FUNCTION ${trigger}()`);
  }
  expect((await owner.query('SELECT 1 FROM proposal_votes WHERE proposal_id = $1', [proposal])).rowCount).toBe(0);
  expect(await voteEvents(proposal, failing)).toEqual([]);
  expect(await outboxEvents(proposal)).toBe(0);

  // Once the event can be written, the same vote lands with exactly one event.
  await castVote(app, { proposalId: proposal, cooperativeId: coop, memberId: failing, choice: 'no' });
  expect((await voteEvents(proposal, failing)).map((e) => e.version)).toEqual([1]);
});

it('casts votes given together in one call, each written, replayed or refused on its own, across proposals', async () => {
  const [a, b, outsider] = [await addMember(owner, coop), await addMember(owner, coop), await addMember(owner, coop)];
  const [first, second] = [await openProposal([a, b]), await openProposal([a])];
  await castVote(app, { proposalId: first, cooperativeId: coop, memberId: a, choice: 'yes' });

  const outcomes = await castVotes(app, [
    { proposalId: first, cooperativeId: coop, memberId: a, choice: 'yes' }, // a replay
    { proposalId: first, cooperativeId: coop, memberId: b, choice: 'no' },
    { proposalId: first, cooperativeId: coop, memberId: outsider, choice: 'yes' }, // not in the electorate
    { proposalId: second, cooperativeId: coop, memberId: a, choice: 'abstain' },
    { proposalId: randomUUID(), cooperativeId: coop, memberId: a, choice: 'yes' }, // no such proposal
  ]);
  expect(outcomes.map((o) => (o === undefined ? 'written' : (o as { code: string }).code))).toEqual(['written', 'written', 'FORBIDDEN', 'written', 'NOT_FOUND']);
  expect((await voteEvents(first, a)).map((e) => e.version)).toEqual([1]);
  expect((await voteEvents(first, b)).map((e) => e.choice)).toEqual(['no']);
  expect(await voteEvents(first, outsider)).toEqual([]);
  expect((await voteEvents(second, a)).map((e) => e.choice)).toEqual(['abstain']);
  const votes = await owner.query('SELECT proposal_id, member_id, choice FROM proposal_votes WHERE proposal_id = ANY ($1) ORDER BY proposal_id, member_id', [[first, second]]);
  expect(votes.rows).toHaveLength(3);
  expect(await outboxEvents(first)).toBe(2);

  // One member twice on one proposal in one call is a caller's mistake, refused before anything is sent.
  await expect(castVotes(app, [{ proposalId: first, cooperativeId: coop, memberId: b, choice: 'yes' }, { proposalId: first, cooperativeId: coop, memberId: b, choice: 'no' }])).rejects.toThrow(RangeError);
});

it("answers a vote whose write fails with its own error, and still writes the others given with it", async () => {
  const [ok, failing] = [await addMember(owner, coop), await addMember(owner, coop)];
  const proposal = await openProposal([ok, failing]);
  const trigger = `vote_event_fails_${randomUUID().replace(/-/g, '')}`;
  await owner.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.payload->>'memberId' = '${failing}' THEN RAISE EXCEPTION 'event refused'; END IF; RETURN NEW; END $$`);
  await owner.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON economic_events FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
  let outcomes: unknown[];
  try {
    outcomes = await castVotes(app, [
      { proposalId: proposal, cooperativeId: coop, memberId: failing, choice: 'no' },
      { proposalId: proposal, cooperativeId: coop, memberId: ok, choice: 'yes' },
    ]);
  } finally {
    await owner.query(`DROP TRIGGER ${trigger} ON economic_events; DROP FUNCTION ${trigger}()`);
  }
  expect((outcomes[0] as Error).message).toMatch(/event refused/);
  expect(outcomes[1]).toBeUndefined();
  expect((await owner.query('SELECT member_id FROM proposal_votes WHERE proposal_id = $1', [proposal])).rows).toEqual([{ member_id: ok }]);
  expect((await voteEvents(proposal, ok)).map((e) => e.version)).toEqual([1]);
  expect(await voteEvents(proposal, failing)).toEqual([]);
});
