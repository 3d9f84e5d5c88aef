import { COOPERATIVE_STATUSES } from '../../domain/cooperative';
import { createdRangeQuery, pageOf, pageQuery, SafeText, Uuid } from './common';
import { z } from './zod';

export const CooperativeSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/, 'must be 3-64 lowercase letters, digits or hyphens, not starting or ending with a hyphen')
  .openapi({ example: 'techne' });

export const CreateCooperativeBody = z
  .strictObject({
    slug: CooperativeSlug,
    name: SafeText(1, 200).openapi({ example: 'Techne Cooperative' }),
  })
  .openapi('CreateCooperative');

export const CooperativeParams = z.strictObject({ cooperativeId: Uuid });

export const CooperativeResponse = z
  .object({
    id: Uuid,
    slug: CooperativeSlug,
    name: z.string(),
    status: z.enum(COOPERATIVE_STATUSES),
    createdAt: z.iso.datetime(),
    activatedAt: z.iso.datetime().nullable(),
  })
  .openapi('Cooperative');

export const CooperativeProvisioningResponse = z
  .object({
    slug: CooperativeSlug,
    status: z.literal('provisioning'),
    workflowId: z.string(),
  })
  .openapi('CooperativeProvisioning');

export const CooperativePage = pageOf(CooperativeResponse, 'CooperativePage');

export const CooperativeListQuery = z.strictObject({ status: z.enum(COOPERATIVE_STATUSES).optional(), ...createdRangeQuery, ...pageQuery });

/** What any member of the network may know of a cooperative: enough to name it as a stakeholder. */
export const DirectoryEntry = z.object({ id: Uuid, slug: CooperativeSlug, name: z.string() }).openapi('CooperativeDirectoryEntry');
export const DirectoryPage = pageOf(DirectoryEntry, 'CooperativeDirectoryPage');
export const DirectoryQuery = z.strictObject(pageQuery);
