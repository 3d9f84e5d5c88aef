import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook signature scheme, the one both the sender and every verifier use (the README shows the
 * same verification standalone, and test/unit/webhook-signature.test.ts runs the README's copy):
 *
 *   Coop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…]
 *
 * The key is the whole secret string (`whsec_…`) as UTF-8. While a rotated secret is still in its grace
 * period there is one v1 per secret, the newest first, so a receiver holding either one verifies. The
 * timestamp is signed with the body, so a captured delivery cannot be replayed outside the tolerance.
 * It lives in clients/ because domain/ loads no Node built-ins.
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The Coop-Signature header for `body` sent at `timestamp` (unix seconds), signed with each secret. */
export function signatureHeader(secrets: readonly string[], body: string, timestamp: number): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${hmac(secret, timestamp, body)}`)].join(',');
}

/** Whether `header` signs exactly `rawBody` with `secret`, at a time within the tolerance of `nowMs`. */
export function verifySignature(header: string, rawBody: string, secret: string, nowMs = Date.now(), toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): boolean {
  const pairs = header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const t = pairs.find(([key]) => key === 't')?.[1];
  if (t === undefined || !/^\d{1,12}$/.test(t)) return false;
  const timestamp = Number(t);
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), 'hex');
  // Constant-time: how much of a forged signature matches must not show in the time taken.
  return pairs.some(([key, value]) => key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value) && timingSafeEqual(Buffer.from(value, 'hex'), expected));
}
