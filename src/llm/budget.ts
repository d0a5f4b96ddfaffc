import type { BaseMessage } from '@langchain/core/messages';
import { BUDGET_WAIT_PREFIX, budgetsForCall, claimWarning } from '../../graph/budget.repository.js';
import { auditScope } from '../audit-scope.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { causeOf } from '../domain/error-causes.js';
import { judgeBudget, type BudgetDefaults, type BudgetState } from '../domain/budget.js';
import { StepError, type StepContext } from '../engine/executor.js';
import type { Logger } from '../logger.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import type { CallGuard } from './call-guard.js';

/**
 * A model call refused because a budget is spent: a permanent StepError (never retried). The
 * engine does not fail the step: it waits (AWAITING_APPROVAL, its error starting with
 * `BUDGET_EXCEEDED:`) until someone raises the budget (setBudget re-queues it) or cancels it.
 */
export class BudgetExceededError extends StepError {
  readonly code = 'BUDGET_EXCEEDED';
  /** The message without a step's way on (memory ingestion says its own). */
  readonly refusal: string;
  constructor(
    readonly budget: Pick<BudgetState, 'scope' | 'targetId' | 'limit' | 'spent'>,
    unit: 'usd' | 'tokens',
    /** The version of the tenant's budgets it was judged at (CallBudgets). */
    readonly version = 0,
    /** The refused call's estimated prompt tokens (a token limit counts them). */
    estimatedTokens = 0,
  ) {
    const limit = budget.limit[unit]!;
    const spent =
      unit === 'usd' ? `${budget.spent.usd.toFixed(6)} USD` : `${budget.spent.tokens} tokens`;
    // Under a token limit, the call's prompt alone may be what would pass it.
    const state =
      unit === 'tokens' && budget.spent.tokens < limit
        ? `would be passed by this call (spent ${spent}, and about ${estimatedTokens} for its prompt)`
        : `is reached (spent ${spent})`;
    const refusal =
      `${BUDGET_WAIT_PREFIX} the ${budget.scope.toLowerCase()} budget of ${limit} ${unit === 'usd' ? 'USD' : 'tokens'} ` +
      `for ${budget.targetId} ${state}; raise it with setBudget(scope: ${budget.scope}, ` +
      `id: "${budget.targetId}", ${unit}: ...)`;
    super(`${refusal} to go on, or cancel the work`, false);
    this.refusal = refusal;
    this.name = 'BudgetExceededError';
  }
}

/** The BudgetExceededError in `err`, also when wrapped (as `cause`) by a chain or an agent. */
export function budgetErrorOf(err: unknown): BudgetExceededError | null {
  return causeOf(err, BudgetExceededError);
}

/** A rough prompt size before the call: 4 characters a token, as OpenAI's rule of thumb. */
export function estimatePromptTokens(messages: BaseMessage[][]): number {
  let chars = 0;
  for (const group of messages)
    for (const m of group)
      chars += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content).length;
  return Math.ceil(chars / 4);
}

export interface BudgetGuardDeps {
  uow: UnitOfWork;
  defaults: BudgetDefaults;
  logger?: Logger;
}

/** Who a call is made for. */
export interface BudgetSubject {
  tenantId: string;
  agentId: string | null;
  taskId: string | null;
}

/**
 * Checks the budgets before each call of the model it guards (createChatModel's `guard`, asked
 * before anything is sent: call-guard.ts): refuses with BudgetExceededError, and publishes
 * budgetWarning once per budget and limit when spending passes the warning share.
 */
export class BudgetGuard implements CallGuard {
  constructor(
    private readonly deps: BudgetGuardDeps,
    private readonly subject: BudgetSubject,
  ) {}

  admit(messages: BaseMessage[][]): Promise<void> {
    return checkBudgets(this.deps, this.subject, estimatePromptTokens(messages));
  }
}

/** The check itself: one read, and a write only when a warning is due. Throws when exceeded. */
export async function checkBudgets(
  deps: BudgetGuardDeps,
  subject: BudgetSubject,
  estimatedTokens: number,
): Promise<void> {
  const { states, version } = await deps.uow.read((tx) =>
    budgetsForCall(tx, subject.tenantId, subject, deps.defaults),
  );
  let refused: BudgetExceededError | null = null;
  for (const state of states) {
    const verdict = judgeBudget(state, estimatedTokens, deps.defaults.warnShare);
    if (verdict.warn.length > 0) await warn(deps, subject, state, verdict.warn);
    if (verdict.exceeded && !refused) {
      refused = new BudgetExceededError(state, verdict.exceeded, version, estimatedTokens);
    }
  }
  if (refused) {
    deps.logger?.warn(
      { tenantId: subject.tenantId, taskId: subject.taskId, agentId: subject.agentId },
      refused.message,
    );
    throw refused;
  }
}

async function warn(
  deps: BudgetGuardDeps,
  subject: BudgetSubject,
  state: BudgetState,
  units: ('usd' | 'tokens')[],
): Promise<void> {
  // The warning is claimed and its event written in one transaction: published after commit,
  // and kept in the outbox when the bus cannot take it (durable like any committed change).
  const warningOf = (unit: 'usd' | 'tokens') => {
    const limit = state.limit[unit]!;
    const spent = state.spent[unit];
    return {
      tenantId: subject.tenantId,
      scope: state.scope,
      targetId: state.targetId,
      unit: unit === 'usd' ? ('USD' as const) : ('TOKENS' as const),
      limit,
      spent,
      share: limit > 0 ? spent / limit : 1,
    };
  };
  // Bookkeeping, not the operation that made the call: outside its audit record, which the
  // operation's own write keeps (this one wrote it, without the operation's ids).
  const claimed = await auditScope.exit(() =>
    deps.uow.run(async (tx, emit) => {
      const won = await claimWarning(tx, subject.tenantId, state, units);
      for (const unit of won) emit({ topic: TOPICS.budgetWarning, payload: warningOf(unit) });
      return won;
    }),
  );
  for (const unit of claimed) {
    const limit = state.limit[unit]!;
    const spent = state.spent[unit];
    deps.logger?.warn(
      {
        tenantId: subject.tenantId,
        scope: state.scope,
        targetId: state.targetId,
        unit,
        limit,
        spent,
      },
      `budget warning: ${state.scope.toLowerCase()} ${state.targetId} has spent ${spent} of ${limit} ${unit}`,
    );
  }
}

/**
 * The `guard` hook of createAgentRuntime: a BudgetGuard on every model call of a step (or a
 * chat, which has no task), for the step's tenant, agent and task.
 */
export function budgetGuard(deps: BudgetGuardDeps) {
  return (step: StepContext): BudgetGuard =>
    new BudgetGuard(deps, {
      tenantId: step.task.tenantId,
      agentId: step.agent?.id ?? null,
      taskId: step.task.id ?? null,
    });
}
