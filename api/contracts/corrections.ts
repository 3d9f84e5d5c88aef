import { CORRECTION_STATUSES, correctionWorkflowId, type Correction } from '../../domain/corrections';
import { formatMicros } from '../../domain/money';
import { pageQuery, SafeText, Uuid } from './common';
import { AmountString, PositiveAmount } from './money';
import { z } from './zod';

const Reason = SafeText(1, 2000);

export const BurnBody = z
  .strictObject({ memberId: Uuid, amount: PositiveAmount, reason: Reason.openapi({ description: 'why the credits are destroyed; recorded with the operator' }) })
  .openapi('Burn');

export const CorrectionBody = z
  .strictObject({ transactionId: Uuid, reason: Reason.openapi({ description: 'why the transaction is reversed; recorded with the operator' }) })
  .openapi('ProposeCorrection');

export const ApproveCorrectionBody = z.strictObject({}).openapi('ApproveCorrection');
export const RejectCorrectionBody = z.strictObject({ reason: Reason }).openapi('RejectCorrection');

export const CorrectionParams = z.strictObject({ cooperativeId: Uuid, correctionId: Uuid });
export const CorrectionListQuery = z.strictObject({ status: z.enum(CORRECTION_STATUSES).optional(), ...pageQuery });

export const CorrectionView = z
  .object({
    id: Uuid,
    transactionId: Uuid.openapi({ description: 'the transaction it reverses' }),
    amount: AmountString.openapi({ description: 'CLOUD the corrected transaction moved' }),
    reason: z.string(),
    requiresApproval: z.boolean().openapi({ description: 'above CORRECTION_APPROVAL_THRESHOLD: a second operator must approve it' }),
    status: z.enum(CORRECTION_STATUSES),
    proposedBy: z.string(),
    proposedAt: z.iso.datetime(),
    decidedBy: z.string().nullable().openapi({ description: 'the second operator who approved or rejected it' }),
    decidedAt: z.iso.datetime().nullable(),
    decisionReason: z.string().nullable(),
    correctionTransactionId: Uuid.nullable().openapi({ description: 'the reversing transaction, once applied' }),
    workflowId: z.string().nullable().openapi({ description: 'correction:<id> while it needs approval, to find it in the Temporal UI' }),
  })
  .openapi('Correction');

export const correctionView = (c: Correction): z.infer<typeof CorrectionView> => ({
  id: c.id, transactionId: c.transactionId, amount: formatMicros(c.amount), reason: c.reason, requiresApproval: c.requiresApproval, status: c.status,
  proposedBy: c.proposedBy, proposedAt: c.proposedAt, decidedBy: c.decidedBy, decidedAt: c.decidedAt, decisionReason: c.decisionReason,
  correctionTransactionId: c.correctionTransactionId, workflowId: c.requiresApproval ? correctionWorkflowId(c.id) : null,
});

export const CorrectionPage = z.object({ items: z.array(CorrectionView), nextCursor: z.string().nullable() }).openapi('CorrectionPage');
