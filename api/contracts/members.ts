import { checksumAddress, normaliseEnsSubname } from '../../domain/identity';
import type { Member } from '../../domain/member';
import { SafeText, Uuid } from './common';
import { z } from './zod';

function refined(check: (v: string) => string) {
  return (value: string, ctx: z.RefinementCtx) => {
    try {
      return check(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid' });
      return z.NEVER;
    }
  };
}

export const CreateMemberBody = z
  .strictObject({
    address: z.string().max(42).transform(refined(checksumAddress)).openapi({ type: 'string', example: '0x52908400098527886E0F7030069857D2E4169EE7' }),
    ensName: z.string().max(255).transform(refined(normaliseEnsSubname)).optional().openapi({ type: 'string', example: 'alice.techne.eth' }),
    displayName: SafeText(1, 200).optional(),
  })
  .openapi('CreateMember');

export const MemberView = z
  .object({ id: Uuid, cooperativeId: Uuid, address: z.string(), ensName: z.string().nullable(), displayName: z.string().nullable(), createdAt: z.iso.datetime() })
  .openapi('Member');

export const memberView = (m: Member): z.infer<typeof MemberView> => m;
