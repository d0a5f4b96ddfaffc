import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

@ObjectType({ description: 'Totals over recorded model calls (:LLMCall nodes).' })
export class LLMUsage {
  @Field(() => Int, { description: 'Calls made, failed ones included.' })
  calls!: number;

  @Field(() => Int, { description: 'Prompt tokens the servers reported, cached ones included.' })
  promptTokens!: number;

  @Field(() => Int, {
    description:
      'The part of promptTokens read from a prompt cache, priced at the cached-input price.',
  })
  cachedPromptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => Int)
  totalTokens!: number;

  @Field(() => Float, {
    description:
      'USD from the price table (LLM_PRICES over the built-in one); calls to unpriced models count 0, see unpricedCalls.',
  })
  costUsd!: number;

  @Field(() => Int, {
    description:
      'Calls to a model the price table does not know (by the reported or the configured name): their cost is unknown and counted as 0 in costUsd. Add the model to LLM_PRICES.',
  })
  unpricedCalls!: number;
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
