import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LessonStatus } from '../src/domain/lesson.js';

registerEnumType(LessonStatus, {
  name: 'LessonStatus',
  description:
    'CANDIDATE: applied to a share of runs while evidence accrues; ACTIVE: shown to help, applied to every run of its scope; RETIRED: never applied again.',
});

@ObjectType({
  description:
    "A lesson's (or skill's) efficacy: the PASS rate of the comparable runs it was applied in against those it was not (same family and/or capability as its scope, since it was made), and a 95% interval for the difference by Newcombe's hybrid score method (two Wilson score intervals combined).",
})
export class KnowledgeEfficacy {
  @Field(() => Int, { description: 'Comparable runs with an evaluation whose prompt carried it.' })
  applied!: number;

  @Field(() => Int, { description: 'Of those, the ones whose effective verdict is PASS.' })
  appliedSuccesses!: number;

  @Field(() => Int, { description: 'Comparable runs with an evaluation whose prompt did not.' })
  notApplied!: number;

  @Field(() => Int)
  notAppliedSuccesses!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'PASS rate applied minus not applied; null while either side has no run.',
  })
  delta!: number | null;

  @Field(() => Float, { nullable: true, description: "The interval's lower bound for delta." })
  low!: number | null;

  @Field(() => Float, { nullable: true, description: "The interval's upper bound for delta." })
  high!: number | null;
}

@ObjectType({ description: 'A change of state of a lesson or skill, with its reason.' })
export class KnowledgeTransition {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true, description: 'Null when it was created.' })
  from!: string | null;

  @Field(() => String)
  to!: string;

  @Field(() => String)
  reason!: string;

  @Field(() => String, { description: 'PLATFORM, or the person who decided.' })
  actor!: string;

  @Field(() => DateTimeISOResolver)
  at!: string;
}
