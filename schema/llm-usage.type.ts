import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PerformanceBucket } from './analytics.type.js';

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

/** What llmUsageTrend groups the calls by. */
export enum LLMUsageGroup {
  MODEL = 'MODEL',
  AGENT = 'AGENT',
}
registerEnumType(LLMUsageGroup, {
  name: 'LLMUsageGroup',
  description:
    'MODEL: by the model that answered (the configured one when the server named none). AGENT: by the agent the call was made for; calls of no agent (memory, judging) form one group.',
});

@ObjectType({ description: 'The calls of one group in one bucket of a usage trend.' })
export class LLMUsagePoint {
  @Field(() => DateTimeISOResolver, { description: 'Start of the bucket, included.' })
  bucketStart!: Date;

  @Field(() => String, {
    nullable: true,
    description: "The model's name or the agent's id; null for calls of no agent.",
  })
  key!: string | null;

  @Field(() => String, { description: "What to show: the model, or the agent's name." })
  label!: string;

  @Field(() => Int)
  calls!: number;

  @Field(() => Int)
  promptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => Int)
  totalTokens!: number;

  @Field(() => Float, { description: 'USD from the price table; unpriced calls count 0.' })
  costUsd!: number;
}

@ObjectType({ description: "The tenant's model calls over a window, per bucket and group." })
export class LLMUsageTrend {
  @Field(() => LLMUsageGroup)
  by!: LLMUsageGroup;

  @Field(() => PerformanceBucket)
  bucket!: PerformanceBucket;

  @Field(() => DateTimeISOResolver, { description: 'Start of the window, included.' })
  since!: Date;

  @Field(() => DateTimeISOResolver, { description: 'End of the window, excluded.' })
  until!: Date;

  @Field(() => [LLMUsagePoint], {
    description: 'Only buckets and groups with calls; oldest bucket first, then by key.',
  })
  points!: LLMUsagePoint[];
}
