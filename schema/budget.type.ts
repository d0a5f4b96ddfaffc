import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BudgetScope } from '../src/domain/budget.js';
import { Task } from './task.type.js';

export { BudgetScope };

registerEnumType(BudgetScope, {
  name: 'BudgetScope',
  description: 'What a budget limits: the tenant, one agent, or one submitted task and its steps.',
});

export enum BudgetUnit {
  USD = 'USD',
  TOKENS = 'TOKENS',
}
registerEnumType(BudgetUnit, { name: 'BudgetUnit' });

@ObjectType({
  description:
    'A spending limit, checked before each model call. A call that would pass it is refused with BUDGET_EXCEEDED and its step waits (AWAITING_APPROVAL) until a budget is raised (setBudget) or the task is cancelled.',
})
export class Budget {
  @Field(() => BudgetScope)
  scope!: BudgetScope;

  @Field(() => ID, { description: 'The tenant’s, agent’s or root task’s id.' })
  targetId!: string;

  @Field(() => Float, { nullable: true, description: 'The limit in USD; null: none.' })
  usd!: number | null;

  @Field(() => Int, { nullable: true, description: 'The limit in tokens; null: none.' })
  tokens!: number | null;

  @Field(() => Float, { description: 'USD spent so far (the :LLMCall totals).' })
  spentUsd!: number;

  @Field(() => Int, { description: 'Tokens spent so far (the :LLMCall totals).' })
  spentTokens!: number;
}

@ObjectType({ description: 'A budget after setBudget, and the steps it sent back to the queue.' })
export class BudgetChange {
  @Field(() => Budget)
  budget!: Budget;

  @Field(() => [Task], {
    description: 'Steps that waited for a budget and are READY again (each checks again).',
  })
  requeued!: Task[];
}

@ObjectType({ description: 'Spending passed the warning share of a budget (BUDGET_WARN_SHARE).' })
export class BudgetWarning {
  @Field(() => BudgetScope)
  scope!: BudgetScope;

  @Field(() => ID)
  targetId!: string;

  @Field(() => BudgetUnit)
  unit!: BudgetUnit;

  @Field(() => Float)
  limit!: number;

  @Field(() => Float)
  spent!: number;

  @Field(() => Float, { description: 'spent / limit.' })
  share!: number;
}
