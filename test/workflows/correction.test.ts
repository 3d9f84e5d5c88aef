import { randomUUID } from 'node:crypto';
import * as ledger from '../../db/ledger';
import type { CorrectionState } from '../../workflows/correction';
import { cloud, randomAddress } from '../harness/ledger';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/time-skipping';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Four eyes on corrections above the threshold (the production default, 100 CLOUD) with the production
 * approval window (7 days), in virtual time: a second operator's approval within the window applies the
 * correction; nobody deciding expires it, unapplied.
 */
describe('correction approval window in virtual time', () => {
  let stack: TimeSkippingStack;
  let api: NonNullable<TimeSkippingStack['api']>;
  let coop: string;
  let ana: string;
  let ben: string;
  let from: string;
  let to: string;

  beforeAll(async () => {
    stack = await startTimeSkippingStack({ api: true });
    api = stack.api!;
    expect(stack.config.corrections).toEqual({ approvalThreshold: cloud(100), approvalWindowMs: 7 * DAY });
    [ana, ben] = await Promise.all([api.token({ subject: 'op-ana', role: 'operator' }), api.token({ subject: 'op-ben', role: 'operator' })]);
    coop = (await api.request('POST', '/v1/cooperatives', { token: ana, body: { slug: `vfix-${randomUUID().slice(0, 8)}`, name: 'Fixes' } })).body.id;
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: coop });
    const member = async () => (await api.request('POST', `/v1/cooperatives/${coop}/members`, { token: admin, body: { address: randomAddress() } })).body.id as string;
    [from, to] = [await member(), await member()];
    await ledger.mint(stack.pool, { cooperativeId: coop, memberId: from, amount: cloud(1000), source: 'purchase', sourceId: `pi_${randomUUID()}`, idempotencyKey: 'seed' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A transfer of 150 CLOUD (above the threshold), proposed for correction by Ana. */
  async function proposed(): Promise<{ id: string; transactionId: string; expiresAt: number }> {
    const sent = await ledger.transfer(stack.pool, { cooperativeId: coop, fromMemberId: from, toMemberId: to, amount: cloud(150), idempotencyKey: randomUUID() });
    const res = await api.request('POST', `/v1/cooperatives/${coop}/corrections`, { token: ana, body: { transactionId: sent.transaction.id, reason: 'paid twice' }, headers: { 'idempotency-key': randomUUID() } });
    expect(res.body).toMatchObject({ status: 'proposed', requiresApproval: true, amount: '150' });
    const state = await stack.client.workflow.getHandle(`correction:${res.body.id}`).query<CorrectionState>('state');
    return { id: res.body.id, transactionId: sent.transaction.id, expiresAt: Date.parse(state.expiresAt) };
  }
  const decide = (id: string, decision: string, token: string, body: unknown = {}) => api.request('POST', `/v1/cooperatives/${coop}/corrections/${id}/${decision}`, { token, body });
  const toBalance = async () => (await ledger.memberBalance(stack.pool, coop, to)).available;

  it('applies a correction a second operator approves a minute before the 7-day window ends', async () => {
    const before = await stack.now();
    const c = await proposed();
    expect(c.expiresAt - before).toBeGreaterThanOrEqual(7 * DAY);
    const held = await toBalance();
    await stack.sleepUntil(c.expiresAt - MINUTE);
    expect(await stack.firedTimers(`correction:${c.id}`)).toBe(0);
    const approved = await decide(c.id, 'approve', ben);
    expect(approved.body).toMatchObject({ status: 'applied', proposedBy: 'op-ana', decidedBy: 'op-ben' });
    expect(await toBalance()).toBe(held - cloud(150));
    expect(await stack.client.workflow.getHandle(`correction:${c.id}`).result()).toMatchObject({ status: 'applied', decidedBy: 'op-ben' });
    expect((await ledger.integrityReport(stack.pool, coop)).findings).toEqual([]);
  });

  it('expires a correction nobody approves within 7 days, unapplied; a late approval is refused', async () => {
    const c = await proposed();
    const held = await toBalance();
    expect(await stack.client.workflow.getHandle(`correction:${c.id}`).result()).toMatchObject({ status: 'expired' });
    expect((await stack.client.workflow.getHandle(`correction:${c.id}`).describe()).closeTime!.getTime()).toBeGreaterThanOrEqual(c.expiresAt);
    const late = await decide(c.id, 'approve', ben);
    expect({ status: late.status, code: late.body.error?.code }).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await api.request('GET', `/v1/cooperatives/${coop}/corrections/${c.id}`, { token: ana })).body).toMatchObject({ status: 'expired', decidedBy: null, correctionTransactionId: null });
    expect(await toBalance()).toBe(held);
    // The transaction can be proposed for correction again.
    const again = await api.request('POST', `/v1/cooperatives/${coop}/corrections`, { token: ben, body: { transactionId: c.transactionId, reason: 'paid twice, for sure' }, headers: { 'idempotency-key': randomUUID() } });
    expect(again.body).toMatchObject({ status: 'proposed', proposedBy: 'op-ben' });
  });
});
