/** A two-phase hold on a wallet's credits: open until finalized, released or expired, and resolved at most once. */
export const HOLD_STATUSES = ['open', 'finalized', 'released', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

export interface Hold {
  id: string;
  cooperativeId: string;
  memberId: string;
  /** µCLOUD reserved. */
  amount: bigint;
  status: HoldStatus;
  expiresAt: string;
  /** µCLOUD consumed, once finalized. */
  finalAmount: bigint | null;
  transactionId: string | null;
  createdAt: string;
  resolvedAt: string | null;
}
