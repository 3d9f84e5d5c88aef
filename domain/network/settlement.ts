/** One exchange's movement of CLOUD from a member of the payer cooperative to the payee cooperative (decision 0022). */
export interface SettlementRequest {
  /** The business key both sides and the compensation are idempotent by (a booking, a mutual-aid payment). */
  exchangeId: string;
  payerCooperativeId: string;
  payerMemberId: string;
  payeeCooperativeId: string;
  /** µCLOUD. */
  amount: bigint;
  memo?: string;
}
