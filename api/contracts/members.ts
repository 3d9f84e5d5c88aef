import { normaliseEnsSubname } from '../../domain/identity';
import type { Member } from '../../domain/member';
import { EthAddress, refined, SafeText, Uuid } from './common';
import { z } from './zod';

export const CreateMemberBody = z
  .strictObject({
    address: EthAddress,
    ensName: z.string().max(255).transform(refined(normaliseEnsSubname)).optional().openapi({ type: 'string', example: 'alice.techne.eth' }),
    displayName: SafeText(1, 200).optional(),
  })
  .openapi('CreateMember');

export const MemberView = z
  .object({ id: Uuid, cooperativeId: Uuid, address: z.string(), ensName: z.string().nullable(), displayName: z.string().nullable(), createdAt: z.iso.datetime() })
  .openapi('Member');

export const memberView = (m: Member): z.infer<typeof MemberView> => m;
