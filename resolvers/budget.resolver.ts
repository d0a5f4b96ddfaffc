import { RESUME_AFTER } from './args.js';
import {
  Arg,
  Authorized,
  Ctx,
  Float,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Budget, BudgetChange, BudgetScope, BudgetWarning } from '../schema/budget.type.js';
import { Role } from '../schema/enums.js';
import type { AppContext } from '../src/server/context.js';
import type { BudgetState } from '../src/domain/budget.js';
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type BudgetWarningEvent } from '../subscriptions/topics.js';

const toBudget = (s: BudgetState): Budget => ({
  scope: s.scope,
  targetId: s.targetId,
  usd: s.limit.usd,
  tokens: s.limit.tokens,
  spentUsd: s.spent.usd,
  spentTokens: s.spent.tokens,
});

@Authorized(Role.VIEWER)
@Resolver()
export class BudgetResolver {
  @Query(() => Budget, {
    description:
      'A budget as it stands (set, or the default from BUDGET_<SCOPE>_USD/_TOKENS). id: the agent or root task; omit it for TENANT.',
  })
  async budget(
    @Arg('scope', () => BudgetScope) scope: BudgetScope,
    @Ctx() ctx: AppContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
  ): Promise<Budget> {
    return toBudget(await ctx.services.budgets.get(ctx.tenantId, scope, id));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => BudgetChange, {
    description:
      'Sets a budget: usd and tokens are limits (null: none; omitted: unchanged). Steps waiting for a budget go back to the queue and check again.',
  })
  async setBudget(
    @Arg('scope', () => BudgetScope) scope: BudgetScope,
    @Ctx() ctx: AppContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('usd', () => Float, { nullable: true }) usd?: number | null,
    @Arg('tokens', () => Int, { nullable: true }) tokens?: number | null,
  ): Promise<BudgetChange> {
    const { budget, requeued } = await ctx.services.budgets.set(ctx.tenantId, scope, id, {
      usd,
      tokens,
    });
    return { budget: toBudget(budget), requeued };
  }

  @Subscription(() => BudgetWarning, {
    topics: TOPICS.budgetWarning,
    topicId: ({ args, context }) =>
      tenantEvents<BudgetWarningEvent>(
        (context as AppContext).tenantId,
        (e) => (!args.scope || e.scope === args.scope) && (!args.id || e.targetId === args.id),
        (args as { after?: string | null }).after,
      ),
    description:
      'Spending passed the warning share (BUDGET_WARN_SHARE, 0.8) of a budget: once per budget and limit.',
  })
  budgetWarning(
    @Root() event: BudgetWarningEvent,
    @Arg('scope', () => BudgetScope, { nullable: true }) _scope?: BudgetScope | null,
    @Arg('id', () => ID, { nullable: true }) _id?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): BudgetWarning {
    return event as BudgetWarning;
  }
}
