import { findCorrection, listCorrections } from '../../db/corrections';
import { burn } from '../../db/ledger';
import type { CorrectionDecision } from '../../domain/corrections';
import { requireCooperativeAccess } from '../auth/authenticate';
import { ApproveCorrectionBody, BurnBody, CorrectionBody, CorrectionListQuery, CorrectionPage, CorrectionParams, CorrectionView, correctionView, RejectCorrectionBody } from '../contracts/corrections';
import { CooperativeScope, TransactionView, transactionView } from '../contracts/ledger';
import type { z } from '../contracts/zod';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { correctTransaction, decideCorrection } from '../services/corrections';

/**
 * Operators mend the ledger without SQL: burns and corrections, each with a reason and recorded with
 * who and when. A correction is a new transaction reversing the one it corrects; above the threshold
 * a second operator approves it first.
 */
export function correctionRoutes(deps: ApiDependencies) {
  const decision = (name: CorrectionDecision, body: z.ZodType<{ reason?: string }>, summary: string) =>
    defineRoute({
      method: 'post',
      path: `/v1/cooperatives/:cooperativeId/corrections/:correctionId/${name}`,
      summary,
      tag: 'Corrections',
      roles: ['operator'],
      params: CorrectionParams,
      body,
      responses: { 200: { description: 'The correction after the decision', schema: CorrectionView } },
      async handler({ params, body: given, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const decided = await decideCorrection(deps, { cooperativeId: params.cooperativeId, correctionId: params.correctionId, decision: name, actor: auth.subject, reason: given.reason });
        return { status: 200, body: correctionView(decided) };
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/burns',
      summary: "Operator: destroy a member's credits, with the reason (the liability becomes breakage revenue)",
      tag: 'Corrections',
      roles: ['operator'],
      params: CooperativeScope,
      body: BurnBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: TransactionView }, 201: { description: 'Burned', schema: TransactionView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const result = await burn(deps.pool, { cooperativeId: params.cooperativeId, memberId: body.memberId, amount: body.amount, reason: body.reason, actor: auth.subject, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(result.replayed));
        return { status: result.replayed ? 200 : 201, body: transactionView(result.transaction) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/cooperatives/:cooperativeId/corrections',
      summary: 'Operator: correct a transaction by a new one reversing it, with the reason; above CORRECTION_APPROVAL_THRESHOLD it waits for a second operator',
      tag: 'Corrections',
      roles: ['operator'],
      params: CooperativeScope,
      body: CorrectionBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed', schema: CorrectionView }, 201: { description: 'Applied, or proposed for approval', schema: CorrectionView } },
      async handler({ params, body, auth, idempotencyKey }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const { correction, created } = await correctTransaction(deps, { cooperativeId: params.cooperativeId, transactionId: body.transactionId, reason: body.reason, actor: auth.subject, idempotencyKey: idempotencyKey! });
        return { status: created ? 201 : 200, body: correctionView(correction) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/corrections',
      summary: 'Operator: corrections, newest first, by status, paginated by cursor',
      tag: 'Corrections',
      roles: ['operator'],
      params: CooperativeScope,
      query: CorrectionListQuery,
      responses: { 200: { description: 'A page of corrections', schema: CorrectionPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listCorrections(deps.pool, params.cooperativeId, { status: query.status }, query);
        return { status: 200, body: { items: page.items.map(correctionView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/corrections/:correctionId',
      summary: 'Operator: a correction, who proposed and decided it, and its reversing transaction',
      tag: 'Corrections',
      roles: ['operator'],
      params: CorrectionParams,
      responses: { 200: { description: 'The correction', schema: CorrectionView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const found = await findCorrection(deps.pool, params.cooperativeId, params.correctionId);
        if (!found) throw new ApiError('NOT_FOUND', 'Correction not found');
        return { status: 200, body: correctionView(found) };
      },
    }),
    decision('approve', ApproveCorrectionBody, 'Operator: approve a correction proposed by another operator; it is applied now'),
    decision('reject', RejectCorrectionBody, 'Operator: reject a proposed correction, with the reason (its proposer may withdraw it this way)'),
  ];
}
