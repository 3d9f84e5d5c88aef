/** A member is active until deactivated; deactivated members stay on the books (decision 0023). */
export const MEMBER_STATUSES = ['active', 'deactivated'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** A member of one cooperative, known by their checksummed address (and optionally an ENS subname). */
export interface Member {
  id: string;
  cooperativeId: string;
  address: string;
  ensName: string | null;
  displayName: string | null;
  status: MemberStatus;
  createdAt: string;
  deactivatedAt: string | null;
}
