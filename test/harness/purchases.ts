import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import type { TokenClaims } from '../../api/auth/tokens';
import { eventually } from './eventually';
import type { HttpRequest } from './http-client';
import { randomAddress } from './ledger';

export interface Member {
  id: string;
  token: string;
}

export interface PurchaseView {
  id: string;
  status: string;
  paymentIntentId: string;
  workflowId: string;
  mintTransactionId: string | null;
  history: Array<{ step: string; status: string; detail: Record<string, unknown> }>;
}

/**
 * Card purchases driven as a member's app and Stripe would drive them: through the API, with
 * webhooks signed locally with the webhook secret.
 */
export function purchaseDriver(api: { request: HttpRequest; token(claims: TokenClaims): Promise<string> }, webhookSecret: string, owner: () => Pool) {
  const stripe = new Stripe('sk_test_unused');
  const purchase = async (member: Member, purchaseId: string): Promise<PurchaseView> => (await api.request('GET', `/v1/credit-purchases/${purchaseId}`, { token: member.token })).body;
  return {
    async newMember(cooperativeId: string): Promise<Member> {
      const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId });
      const res = await api.request('POST', `/v1/cooperatives/${cooperativeId}/members`, { token: admin, body: { address: randomAddress() } });
      return { id: res.body.id, token: await api.token({ subject: res.body.id, role: 'member', cooperativeId }) };
    },

    async buy(member: Member, amount: string): Promise<PurchaseView> {
      const res = await api.request('POST', '/v1/credit-purchases', { token: member.token, body: { amount }, headers: { 'idempotency-key': randomUUID() } });
      if (res.status !== 201 || !res.body.paymentIntentId) throw new Error(`purchase not payable: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },

    /** Stripe reports the payment as succeeded. */
    async paid(paymentIntentId: string): Promise<void> {
      const payload = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: paymentIntentId, object: 'payment_intent' } } });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
      const res = await api.request('POST', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'stripe-signature': header } });
      if (res.status !== 200) throw new Error(`webhook refused: ${res.status} ${JSON.stringify(res.body)}`);
    },

    purchase,

    /** Waits until the purchase's history has these steps. */
    until(member: Member, purchaseId: string, steps: string[]): Promise<PurchaseView> {
      return eventually(() => purchase(member, purchaseId), (p) => JSON.stringify(p.history.map((h) => h.step)) === JSON.stringify(steps));
    },

    /** How many mints the ledger holds for a payment. */
    async mints(paymentIntentId: string): Promise<number> {
      const { rows } = await owner().query(`SELECT count(*)::int AS n FROM transactions WHERE type = 'mint' AND metadata->>'sourceId' = $1`, [paymentIntentId]);
      return rows[0].n;
    },
  };
}
