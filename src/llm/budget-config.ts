import { z } from 'zod';
import { plainNumber, wholeNumber } from '../config/env-number.js';
import type { BudgetDefaults, BudgetLimit } from '../domain/budget.js';

const usd = plainNumber(
  'must be an amount in USD',
  z.number().min(0, 'must be 0 or more'),
).optional();
const tokens = wholeNumber(0, undefined, 'must be a whole number of tokens').optional();

/** BUDGET_<SCOPE>_USD / _TOKENS: default limits (unset: none); BUDGET_WARN_SHARE: 0.8. */
export const budgetEnvSchema = z.object({
  BUDGET_TENANT_USD: usd,
  BUDGET_TENANT_TOKENS: tokens,
  BUDGET_AGENT_USD: usd,
  BUDGET_AGENT_TOKENS: tokens,
  BUDGET_TASK_USD: usd,
  BUDGET_TASK_TOKENS: tokens,
  BUDGET_WARN_SHARE: plainNumber(
    'must be a share such as 0.8',
    z.number().gt(0, 'must be above 0').max(1, 'must be at most 1'),
  ).default(0.8),
});

export function budgetsFromEnv(e: z.infer<typeof budgetEnvSchema>): BudgetDefaults {
  const limit = (u: number | undefined, t: number | undefined): BudgetLimit => ({
    usd: u ?? null,
    tokens: t ?? null,
  });
  return {
    tenant: limit(e.BUDGET_TENANT_USD, e.BUDGET_TENANT_TOKENS),
    agent: limit(e.BUDGET_AGENT_USD, e.BUDGET_AGENT_TOKENS),
    task: limit(e.BUDGET_TASK_USD, e.BUDGET_TASK_TOKENS),
    warnShare: e.BUDGET_WARN_SHARE,
  };
}
