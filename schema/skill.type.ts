import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Agent } from './agent.type.js';

@ObjectType({ description: 'One step of a skill, as a plan states it.' })
export class SkillStep {
  @Field(() => String, { description: "The step's key in the plan it came from." })
  key!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  capability!: string | null;

  @Field(() => String)
  instructions!: string;

  @Field(() => [String], { description: 'Keys of the steps that come first.' })
  dependsOn!: string[];

  @Field(() => String, { nullable: true, description: 'Runs only if this holds.' })
  condition!: string | null;
}

@ObjectType({
  description:
    'A workflow that worked for a task family (issue 12): a (:Knowledge {kind: SKILL}) drawn from successful plans, offered to the Chief of Staff when it plans that family again.',
})
export class Skill {
  @Field(() => ID, { description: 'The id of its Knowledge node.' })
  id!: string;

  @Field(() => String)
  family!: string;

  @Field(() => String, { description: 'CANDIDATE, ACTIVE or RETIRED.' })
  status!: string;

  @Field(() => Int, { description: 'Successful plans of this shape it was drawn from.' })
  strength!: number;

  @Field(() => [SkillStep], { description: 'In order: each step after those it depends on.' })
  steps!: SkillStep[];

  @Field(() => String)
  content!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType({ description: 'Where a spawned agent came from (issue 12).' })
export class SpawnOrigin {
  @Field(() => Agent, { description: 'The Chief of Staff that spawned it.' })
  agent!: Agent;

  @Field(() => String)
  reason!: string;

  @Field(() => DateTimeISOResolver)
  at!: string;

  @Field(() => String, { nullable: true, description: 'Why it was retired; null while active.' })
  retiredReason!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  retiredAt!: string | null;
}
