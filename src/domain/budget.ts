/** What a budget limits: a whole tenant, one agent, or one submitted task (its whole tree). */
export enum BudgetScope {
  TENANT = 'TENANT',
  AGENT = 'AGENT',
  TASK = 'TASK',
}

/** A limit in USD and in tokens; null: no limit. */
export interface BudgetLimit {
  usd: number | null;
  tokens: number | null;
}

export const NO_LIMIT: BudgetLimit = Object.freeze({ usd: null, tokens: null });

/** The defaults from the environment (BUDGET_<SCOPE>_USD, BUDGET_<SCOPE>_TOKENS). */
export interface BudgetDefaults {
  tenant: BudgetLimit;
  agent: BudgetLimit;
  task: BudgetLimit;
  /** Share of a limit at which budgetWarning fires, once per limit (BUDGET_WARN_SHARE, 0.8). */
  warnShare: number;
}

export const UNLIMITED_BUDGETS: BudgetDefaults = Object.freeze({
  tenant: NO_LIMIT,
  agent: NO_LIMIT,
  task: NO_LIMIT,
  warnShare: 0.8,
});

/** Spent so far against one budget. */
export interface Spent {
  usd: number;
  tokens: number;
}

/** One budget as it stands: its limit (set, or the default), what is spent, whence the limit. */
export interface BudgetState {
  scope: BudgetScope;
  /** The tenant's, agent's or root task's id. */
  targetId: string;
  limit: BudgetLimit;
  spent: Spent;
  /** The limits a warning was already sent for (a new limit warns again). */
  warned: BudgetLimit;
}

/** Which unit ran out, or is near its end. */
export type BudgetUnit = 'usd' | 'tokens';

/**
 * The verdict on one budget before a model call. A call is refused when what is spent has
 * reached the limit, or when spent plus the call's estimated prompt tokens would pass a token
 * limit (the completion is not known beforehand, so a call that starts under the limit may end
 * over it). `warn` lists the units whose spending passed `warnShare` of the limit and that
 * were not warned for at this limit yet.
 */
export function judgeBudget(
  state: BudgetState,
  estimatedTokens: number,
  warnShare: number,
): { exceeded: BudgetUnit | null; warn: BudgetUnit[] } {
  const { limit, spent, warned } = state;
  let exceeded: BudgetUnit | null = null;
  if (limit.usd !== null && spent.usd >= limit.usd) exceeded = 'usd';
  else if (limit.tokens !== null && spent.tokens + estimatedTokens > limit.tokens)
    exceeded = 'tokens';
  const warn: BudgetUnit[] = [];
  for (const unit of ['usd', 'tokens'] as const) {
    const max = limit[unit];
    if (max !== null && spent[unit] >= max * warnShare && warned[unit] !== max) warn.push(unit);
  }
  return { exceeded, warn };
}

/** Validates a limit from the API: a finite number >= 0, or null for none. */
export function checkLimit(name: string, value: number | null): string | null {
  if (value === null) return null;
  if (!Number.isFinite(value) || value < 0)
    return `${name} must be a number >= 0 (or null for no limit), but got ${value}`;
  return null;
}
