import { PERIOD_CLOSE_STATUSES, PERIOD_ID, PERIOD_STATUSES, type AccountingPeriod, type PeriodCloseState } from '../../domain/accounting-periods';
import { formatMicros } from '../../domain/money';
import { Uuid } from './common';
import { z } from './zod';

export const PeriodParams = z.strictObject({
  cooperativeId: Uuid,
  periodId: z.string().regex(PERIOD_ID, 'a period is a UTC calendar month, YYYY-MM').openapi({ example: '2026-10' }),
});

export const PeriodView = z
  .object({
    cooperativeId: Uuid,
    period: z.string(),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().openapi({ description: 'the boundary: the period is [startsAt, endsAt)' }),
    status: z.enum(PERIOD_STATUSES),
    requestedBy: z.string().nullable(),
    closedAt: z.iso.datetime().nullable(),
    streamSamples: z.object({ count: z.number().int(), amountUsd: z.string() }).openapi({ description: 'stream samples posted into the period' }),
    close: z
      .object({ workflowId: z.string(), status: z.enum(PERIOD_CLOSE_STATUSES), attempts: z.number().int(), blockedBy: z.string().nullable() })
      .optional()
      .openapi({ description: 'the close under way, while it is not done' }),
  })
  .openapi('AccountingPeriod');

export const periodView = (p: AccountingPeriod, close?: PeriodCloseState & { workflowId: string }): z.infer<typeof PeriodView> => ({
  ...p,
  streamSamples: { count: p.streamSamples.count, amountUsd: formatMicros(p.streamSamples.amountUsd) },
  ...(close ? { close: { workflowId: close.workflowId, status: close.status, attempts: close.attempts, blockedBy: close.blockedBy } } : {}),
});
