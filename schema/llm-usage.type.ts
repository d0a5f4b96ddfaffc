import { Field, Float, Int, ObjectType } from 'type-graphql';

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
