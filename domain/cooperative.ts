/** A cooperative: provisioned by its workflow, then active. */
export const COOPERATIVE_STATUSES = ['provisioning', 'active'] as const;
export type CooperativeStatus = (typeof COOPERATIVE_STATUSES)[number];

export interface Cooperative {
  id: string;
  slug: string;
  name: string;
  status: CooperativeStatus;
  createdAt: string;
  activatedAt: string | null;
}
