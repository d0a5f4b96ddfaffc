import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    "A saved state of a step's agent loop (issue 13): what a retry resumes from. Read only; old ones are pruned (CHECKPOINT_KEEP_PER_THREAD, CHECKPOINT_RETENTION_HOURS).",
})
export class Checkpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "LangGraph's checkpoint id (time-ordered)." })
  checkpointId!: string;

  @Field(() => Int, { description: "The agent loop's step: -1 for the input, then 0, 1, ..." })
  step!: number;

  @Field(() => String, { description: 'What wrote it: input, loop, update or fork.' })
  source!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => [String], {
    description:
      'The nodes that run next from here (e.g. model, tools); empty when the loop ended.',
  })
  next!: string[];

  @Field(() => Int, { description: 'Messages in the conversation at this point.' })
  messageCount!: number;

  @Field(() => Int, { description: 'Size of the stored checkpoint and its metadata, in bytes.' })
  bytes!: number;
}
