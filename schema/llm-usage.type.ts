import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

@ObjectType({ description: 'Totals over recorded model calls (:LLMCall nodes).' })
export class LLMUsage {
  @Field(() => Int, { description: 'Calls made, failed ones included.' })
  calls!: number;

  @Field(() => Int)
  promptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => Int)
  totalTokens!: number;

  @Field(() => Float, {
    description: 'USD from the price table; calls to unpriced models count 0.',
  })
  costUsd!: number;
}

/** Which model calls a task's llmUsage adds up. */
export enum LLMUsageScope {
  TASK = 'TASK',
  SUBTREE = 'SUBTREE',
}
registerEnumType(LLMUsageScope, {
  name: 'LLMUsageScope',
  description:
    "TASK: the task's own runs. SUBTREE: the task and every subtask below it, at any depth (a submitted task's whole cost).",
});
