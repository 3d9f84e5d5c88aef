import { normaliseEnsSubname } from '../../domain/identity';
import { MEMBER_STATUSES, type Member } from '../../domain/member';
import { createdRangeQuery, EthAddress, pageOf, pageQuery, refined, SafeText, Uuid } from './common';
import { z } from './zod';

const EnsName = z.string().max(255).transform(refined(normaliseEnsSubname)).openapi({ type: 'string', example: 'alice.techne.eth' });

export const CreateMemberBody = z
  .strictObject({
    address: EthAddress,
    ensName: EnsName.optional(),
    displayName: SafeText(1, 200).optional(),
  })
  .openapi('CreateMember');

export const MemberParams = z.strictObject({ cooperativeId: Uuid, memberId: Uuid });

/** Absent fields stay as they are; null clears one. */
export const UpdateMemberBody = z
  .strictObject({ displayName: SafeText(1, 200).nullable().optional(), ensName: EnsName.nullable().optional() })
  .refine((b) => b.displayName !== undefined || b.ensName !== undefined, 'give displayName and/or ensName')
  .openapi('UpdateMember');

export const MemberListQuery = z.strictObject({ status: z.enum(MEMBER_STATUSES).optional(), ...createdRangeQuery, ...pageQuery });

export const MemberView = z
  .object({
    id: Uuid, cooperativeId: Uuid, address: z.string(), ensName: z.string().nullable(), displayName: z.string().nullable(),
    status: z.enum(MEMBER_STATUSES), createdAt: z.iso.datetime(), deactivatedAt: z.iso.datetime().nullable(),
  })
  .openapi('Member');

export const MemberPage = pageOf(MemberView, 'MemberPage');

export const memberView = (m: Member): z.infer<typeof MemberView> => m;
