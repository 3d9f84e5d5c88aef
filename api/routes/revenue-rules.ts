import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createRule, findRule, listRules, ruleCooperative } from '../../db/revenue-rules';
import { validateShares } from '../../domain/governance/revenue-rule';
import { approveRule, overrideCooldown, rejectRule, revenueRule, revenueRuleWorkflowId, submitRule } from '../../workflows/revenue-rule';
import { callerCooperative, requireCooperativeAccess, type AuthContext } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { TransactionView, transactionView } from '../contracts/ledger';
import {
  CreateRevenueRuleBody, DistributionBody, OverrideBody, RevenueRuleListQuery, RevenueRulePage, RevenueRuleView, revenueRuleView, RuleActionBody, RuleParams,
} from '../contracts/revenue-rules';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { distributeByActiveRule } from '../services/revenue-distributions';
import { apiErrorFromWorkflowFailure } from '../temporal-failures';
import { runUpdate, startOnce } from '../await-workflow';

export function revenueRuleRoutes(deps: ApiDependencies) {
  /** The rule's cooperative: the caller's own, or (for network-wide operators) the rule's. Unknown or foreign rules are NOT_FOUND. */
  async function scope(auth: AuthContext, ruleId: string): Promise<string> {
    const cooperativeId = auth.cooperativeId ?? (await ruleCooperative(deps.pool, ruleId));
    if (!cooperativeId || !(await findRule(deps.pool, cooperativeId, ruleId))) throw new ApiError('NOT_FOUND', 'Revenue rule not found');
    return cooperativeId;
  }

  /** Runs an Update on the rule's workflow; a rule whose workflow has closed is final, so any step is CONFLICT. */
  async function update(cooperativeId: string, ruleId: string, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (err) {
      const mapped = apiErrorFromWorkflowFailure(err);
      if (mapped) throw mapped;
      if (err instanceof WorkflowNotFoundError) {
        const rule = await findRule(deps.pool, cooperativeId, ruleId);
        throw new ApiError('CONFLICT', `Revenue rule is ${rule?.status ?? 'closed'}`);
      }
      throw err;
    }
  }

  async function view(cooperativeId: string, ruleId: string) {
    return { status: 200, body: revenueRuleView((await findRule(deps.pool, cooperativeId, ruleId))!, revenueRuleWorkflowId(ruleId)) };
  }

  /** One route per lifecycle step: each runs the matching Update on the rule's workflow. */
  const action = (name: 'submit' | 'approve' | 'reject' | 'override', step: typeof submitRule, summary: string) =>
    defineRoute({
      method: 'post',
      path: `/v1/revenue-rules/:ruleId/${name}`,
      summary,
      tag: 'Revenue rules',
      roles: name === 'override' ? ['operator'] : ['coop_admin'],
      params: RuleParams,
      // An override must say why; for the other steps a reason is optional.
      body: name === 'override' ? OverrideBody : RuleActionBody,
      responses: { 200: { description: 'The rule after the step', schema: RevenueRuleView } },
      async handler({ params, body, auth }) {
        const cooperativeId = await scope(auth, params.ruleId);
        const by = { actor: { subject: auth.subject, role: auth.role }, reason: body.reason };
        await update(cooperativeId, params.ruleId, () => runUpdate(deps, () => deps.temporal.workflow.getHandle(revenueRuleWorkflowId(params.ruleId)).startUpdate(step, { args: [by], waitForStage: 'ACCEPTED' })));
        return view(cooperativeId, params.ruleId);
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/revenue-rules',
      summary: 'Propose a revenue rule (named shares in basis points summing to 10000); starts revenue-rule:<id> in draft',
      tag: 'Revenue rules',
      roles: ['coop_admin'],
      body: CreateRevenueRuleBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed', schema: RevenueRuleView }, 201: { description: 'Created in draft', schema: RevenueRuleView } },
      async handler({ body, auth, idempotencyKey }) {
        const cooperativeId = callerCooperative(auth);
        try {
          validateShares(body.shares);
        } catch (err) {
          throw new ApiError('VALIDATION_ERROR', (err as Error).message, [{ path: 'body.shares', message: (err as Error).message }]);
        }
        const { rule, created } = await createRule(deps.pool, { id: randomUUID(), cooperativeId, name: body.name, shares: body.shares, proposer: auth.subject, idempotencyKey: idempotencyKey! });
        await startOnce(deps, () =>
          deps.temporal.workflow.start(revenueRule, {
            taskQueue: deps.config.temporal.taskQueue,
            workflowId: revenueRuleWorkflowId(rule.id),
            args: [{ ruleId: rule.id, cooperativeId, proposer: rule.proposer, cooldownMs: deps.config.governance.revenueRuleCooldownMs }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        );
        return { status: created ? 201 : 200, body: revenueRuleView(rule, revenueRuleWorkflowId(rule.id)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/cooperatives/:cooperativeId/revenue-rules',
      summary: "A cooperative's revenue rules, newest version first, paginated by cursor; by status and creation time",
      tag: 'Revenue rules',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: CooperativeScope,
      query: RevenueRuleListQuery,
      responses: { 200: { description: 'A page of revenue rules', schema: RevenueRulePage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listRules(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map((r) => revenueRuleView(r, revenueRuleWorkflowId(r.id))), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/revenue-rules/:ruleId',
      summary: 'A revenue rule, its status and its audit trail',
      tag: 'Revenue rules',
      roles: ['member', 'coop_admin', 'operator', 'service'],
      params: RuleParams,
      responses: { 200: { description: 'The rule', schema: RevenueRuleView } },
      handler: async ({ params, auth }) => view(await scope(auth, params.ruleId), params.ruleId),
    }),
    action('submit', submitRule, 'Submit a draft rule for approval'),
    action('approve', approveRule, 'Approve a rule (not by its proposer); its cooldown starts'),
    action('reject', rejectRule, 'Reject a rule before it is active'),
    action('override', overrideCooldown, 'Operator: end the cooldown now and activate the rule; the reason is audited'),
    defineRoute({
      method: 'post',
      path: '/v1/revenue-distributions',
      summary: "Distribute revenue as credits by the cooperative's active rule; the transaction records the rule version",
      tag: 'Revenue rules',
      roles: ['coop_admin', 'service'],
      body: DistributionBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed', schema: TransactionView }, 201: { description: 'Distributed', schema: TransactionView } },
      async handler({ body, auth, idempotencyKey }) {
        const period = body.period && { from: new Date(body.period.from), to: new Date(body.period.to) };
        const result = await distributeByActiveRule(deps, { cooperativeId: callerCooperative(auth), distributionId: body.distributionId, amount: body.amount, period, idempotencyKey: idempotencyKey! });
        return { status: result.replayed ? 200 : 201, body: transactionView(result.transaction) };
      },
    }),
  ];
}
