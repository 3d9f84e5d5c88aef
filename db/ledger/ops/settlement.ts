import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { CLEARING_ACCOUNT } from '../../../domain/chart-of-accounts';
import { BusinessError } from '../../../domain/errors';
import { formatMicros } from '../../../domain/money';
import type { SettlementRequest } from '../../../domain/network/settlement';
import { requireKey } from '../../idempotency';
import type { ResolvedAccount } from '../accounts';
import { allocateOrFail, consume } from '../lots';
import { credit, debit } from '../postings';
import { runIdempotent, type LedgerResult } from '../run-operation';
import { requirePositiveAmount } from '../validate';
import { writeTransaction } from '../write-transaction';
import { correct } from './correction';

/** The ledger keys of an exchange's three possible transactions. */
export const settlementKeys = (exchangeId: string) => ({ out: `settlement:${exchangeId}:out`, in: `settlement:${exchangeId}:in`, compensate: `settlement:${exchangeId}:compensate` });

/** The cooperative's clearing account with the counterparty, opened on first use (inside the caller's transaction). */
async function clearingAccount(client: PoolClient, cooperativeId: string, counterpartyId: string): Promise<ResolvedAccount> {
  const find = () =>
    client.query<{ id: string }>('SELECT id FROM accounts WHERE cooperative_id = $1 AND code = $2 AND counterparty_cooperative_id = $3', [cooperativeId, CLEARING_ACCOUNT.code, counterpartyId]);
  let { rows } = await find();
  if (!rows[0]) {
    const t = CLEARING_ACCOUNT;
    await client.query(
      `INSERT INTO accounts (id, cooperative_id, code, name, currency, type, owner_type, allow_negative, balance_shards, counterparty_cooperative_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'system', $7, $8, $9)
       ON CONFLICT (cooperative_id, code, counterparty_cooperative_id) WHERE counterparty_cooperative_id IS NOT NULL DO NOTHING`,
      [randomUUID(), cooperativeId, t.code, `${t.name}: ${counterpartyId}`, t.currency, t.type, t.allowNegative, t.balanceShards, counterpartyId],
    );
    ({ rows } = await find());
  }
  return { id: rows[0]!.id, code: CLEARING_ACCOUNT.code, currency: CLEARING_ACCOUNT.currency, memberId: null };
}

function check(req: SettlementRequest): void {
  requirePositiveAmount(req.amount);
  requireKey(req.exchangeId);
  if (req.payerCooperativeId === req.payeeCooperativeId) throw new BusinessError('VALIDATION_ERROR', 'A settlement moves credits between two different cooperatives');
}

/**
 * The payer's side, in the payer cooperative's books: Dr the member's wallet / Cr clearing with the
 * payee (the credits are now owed to the payee). The member's lots are consumed in order.
 */
export function settleOut(pool: Pool, req: SettlementRequest): Promise<LedgerResult> {
  check(req);
  const spec = { accounts: [{ member: req.payerMemberId, account: 'wallet' as const }], lock: [0], lotsOf: 0 };
  return runIdempotent(pool, req.payerCooperativeId, 'settlement', settlementKeys(req.exchangeId).out, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, now, accounts, lots: spendable, write }) => {
    const [wallet] = accounts;
    const clearing = await clearingAccount(client, cooperativeId, req.payeeCooperativeId);
    const lots = await spendable(req.amount);
    const allocations = allocateOrFail(lots, req.amount, now);
    const id = randomUUID();
    const metadata = { exchangeId: req.exchangeId, side: 'out', memberId: req.payerMemberId, counterpartyCooperativeId: req.payeeCooperativeId, ...(req.memo ? { memo: req.memo } : {}) };
    return write({
      id, cooperativeId, type: 'settlement', idempotencyKey, requestHash, metadata,
      entries: [debit(wallet!, req.amount), credit(clearing, req.amount)],
      lotChanges: consume(allocations),
      movements: allocations.map((a) => ({ lotId: a.lotId, amount: a.amount })),
      events: [{ type: 'cloud.settled', aggregateId: req.payerMemberId, payload: { transactionId: id, ...metadata, amount: formatMicros(req.amount) } }],
    });
  });
}

/** The payee's side, in the payee cooperative's books: Dr clearing with the payer (owed by it) / Cr 4700 intercooperative income. */
export function settleIn(pool: Pool, req: SettlementRequest): Promise<LedgerResult> {
  check(req);
  const spec = { accounts: [{ cooperative: 'intercooperativeIncome' as const }] };
  return runIdempotent(pool, req.payeeCooperativeId, 'settlement', settlementKeys(req.exchangeId).in, req, spec, async ({ client, cooperativeId, idempotencyKey, requestHash, accounts }) => {
    const [income] = accounts;
    const clearing = await clearingAccount(client, cooperativeId, req.payerCooperativeId);
    const id = randomUUID();
    const metadata = { exchangeId: req.exchangeId, side: 'in', counterpartyCooperativeId: req.payerCooperativeId, ...(req.memo ? { memo: req.memo } : {}) };
    return writeTransaction(client, {
      id, cooperativeId, type: 'settlement', idempotencyKey, requestHash, metadata,
      entries: [debit(clearing, req.amount), credit(income!, req.amount)],
      events: [{ type: 'cloud.settled', aggregateId: req.exchangeId, payload: { transactionId: id, ...metadata, amount: formatMicros(req.amount) } }],
    });
  });
}

/** Undoes one side of an exchange with a reversing correction, once (its own key per side). */
export function reverseSettlement(pool: Pool, req: { exchangeId: string; cooperativeId: string; transactionId: string; reason: string }): Promise<LedgerResult> {
  const key = `${settlementKeys(req.exchangeId).compensate}:${req.cooperativeId}`;
  return correct(pool, { cooperativeId: req.cooperativeId, transactionId: req.transactionId, reason: req.reason, idempotencyKey: key });
}
