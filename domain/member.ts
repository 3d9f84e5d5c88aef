/** A member of one cooperative, known by their checksummed address (and optionally an ENS subname). */
export interface Member {
  id: string;
  cooperativeId: string;
  address: string;
  ensName: string | null;
  displayName: string | null;
  createdAt: string;
}
