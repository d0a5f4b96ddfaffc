import * as repo from '../../graph/budget.repository.js';
import {
  BudgetScope,
  checkLimit,
  UNLIMITED_BUDGETS,
  type BudgetDefaults,
  type BudgetState,
} from '../domain/budget.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { publishTasks } from './task-events.js';
import type { UnitOfWork } from './unit-of-work.js';

/**
 * Spending limits per tenant, agent and submitted task (its whole tree), in USD and tokens.
 * The engine checks them before each model call (src/llm/budget.ts); this service reads and
 * changes them. Policy: a step whose call would pass a limit waits (AWAITING_APPROVAL, error
 * `BUDGET_EXCEEDED: ...`); setting any budget of the tenant re-queues every such step, which
 * checks again at its first call; cancelTask ends it instead.
 */
export class BudgetService {
  constructor(
    private readonly uow: UnitOfWork,
    readonly defaults: BudgetDefaults = UNLIMITED_BUDGETS,
  ) {}

  /** One budget as it stands. NOT_FOUND for an agent or root task that is not the tenant's. */
  async get(
    tenantId: string,
    scope: BudgetScope,
    targetId: string | null | undefined,
  ): Promise<BudgetState> {
    const id = targetOf('budget', tenantId, scope, targetId);
    return this.uow.read(async (tx) => {
      await this.assertTarget(tx, tenantId, scope, id);
      return repo.budgetOf(tx, tenantId, scope, id, this.defaults);
    });
  }

  /**
   * Sets a budget's limits (a number; null: no limit; undefined: unchanged) and re-queues the
   * tenant's steps that wait for a budget. Returns the budget and the steps re-queued.
   */
  async set(
    tenantId: string,
    scope: BudgetScope,
    targetId: string | null | undefined,
    limit: { usd?: number | null; tokens?: number | null },
  ): Promise<{ budget: BudgetState; requeued: Task[] }> {
    const id = targetOf('setBudget', tenantId, scope, targetId);
    for (const [name, value] of Object.entries(limit)) {
      const problem = value === undefined ? null : checkLimit(name, value);
      if (problem) throw new BadInputError(problem, { [name]: value });
    }
    if (limit.usd === undefined && limit.tokens === undefined)
      throw new BadInputError('setBudget needs usd or tokens (a limit, or null for none)');
    return this.uow.run(async (tx, emit) => {
      // Before any step's lock, as a step's end that parks it takes it (record.ts).
      await repo.lockBudgets(tx, tenantId);
      await this.assertTarget(tx, tenantId, scope, id);
      await repo.upsertBudget(tx, tenantId, scope, id, limit);
      const requeued = await repo.requeueBudgetWaits(tx, tenantId);
      if (requeued.length) await publishTasks(tx, emit, requeued, 'STATUS_CHANGED');
      const budget = await repo.budgetOf(tx, tenantId, scope, id, this.defaults);
      return { budget, requeued };
    });
  }

  /**
   * A budgetWarning subscription's id: a target setBudget takes (its scope's, or with no scope
   * the tenant, an agent or a root task). NOT_FOUND or BAD_USER_INPUT as setBudget answers.
   */
  async assertWatchable(tenantId: string, scope: BudgetScope | null, id: string): Promise<void> {
    if (scope) return this.uow.read((tx) => this.assertTarget(tx, tenantId, scope, id));
    if (id === tenantId) return;
    await this.uow.read(async (tx) => {
      const agent = await repo.budgetTargetExists(tx, tenantId, BudgetScope.AGENT, id);
      const task = agent.exists
        ? null
        : await repo.budgetTargetExists(tx, tenantId, BudgetScope.TASK, id);
      if (task && !task.exists) throw new NotFoundError('Agent or task', id);
      if (task) await this.assertTarget(tx, tenantId, BudgetScope.TASK, id);
    });
  }

  private async assertTarget(
    tx: Parameters<typeof repo.budgetTargetExists>[0],
    tenantId: string,
    scope: BudgetScope,
    targetId: string,
  ): Promise<void> {
    const target = await repo.budgetTargetExists(tx, tenantId, scope, targetId);
    const what = { TENANT: 'Tenant', AGENT: 'Agent', TASK: 'Task' }[scope];
    if (!target.exists) throw new NotFoundError(what, targetId);
    if (scope === BudgetScope.TASK && !target.isRoot)
      throw new BadInputError(
        `A task budget covers a submitted task and all its steps: give the root task's id, not the step "${targetId}"`,
        { id: targetId },
      );
  }
}

/** A budget's target: the tenant for TENANT, else the id given (BAD_USER_INPUT if none). */
function targetOf(
  operation: string,
  tenantId: string,
  scope: BudgetScope,
  targetId: string | null | undefined,
): string {
  const id = scope === BudgetScope.TENANT ? targetId || tenantId : targetId;
  if (!id) {
    throw new BadInputError(
      `${operation} with scope ${scope} needs the id of ${scope === BudgetScope.AGENT ? 'the agent' : 'the root task'}`,
      { field: 'id' },
    );
  }
  return id;
}
