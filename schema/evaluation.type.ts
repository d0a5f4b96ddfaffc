import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { EvaluationSource, Verdict } from '../src/domain/evaluation.js';

registerEnumType(EvaluationSource, {
  name: 'EvaluationSource',
  description:
    'OBJECTIVE: status, attempts, duration, cost; JUDGE: the judge model (offline: deterministic); PERSON: rateTask/rateRun. A person outranks the judge, the judge the objective signals.',
});
registerEnumType(Verdict, {
  name: 'Verdict',
  description: 'PASS from a score of 0.7, PARTIAL from 0.4, FAIL below.',
});

/** The kinds of EvolutionEvent (subscriptions/topics.ts). */
export enum EvolutionEventKind {
  EVALUATED = 'EVALUATED',
  LESSON_CHANGED = 'LESSON_CHANGED',
  SKILL_CHANGED = 'SKILL_CHANGED',
  VERSION_CHANGED = 'VERSION_CHANGED',
  AGENT_SPAWNED = 'AGENT_SPAWNED',
  AGENT_RETIRED = 'AGENT_RETIRED',
  CONSENSUS_DECIDED = 'CONSENSUS_DECIDED',
}
registerEnumType(EvolutionEventKind, {
  name: 'EvolutionEventKind',
  description: 'What the platform learned or decided.',
});

@ObjectType({
  description: 'A judgement of a run or a root task: from its signals, a judge or a person.',
})
export class Evaluation {
  @Field(() => ID)
  id!: string;

  @Field(() => EvaluationSource)
  source!: EvaluationSource;

  @Field(() => Float, { description: '0 to 1.' })
  score!: number;

  @Field(() => Verdict)
  verdict!: Verdict;

  @Field(() => String, { description: 'What was checked, in a line.' })
  rubric!: string;

  @Field(() => [String], { description: 'The short reasons, one per point judged.' })
  reasons!: string[];

  @Field(() => String, {
    nullable: true,
    description: "A person's comment, or the judge's feedback.",
  })
  comment!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Who judged: the person (PERSON), the judge’s provider/model (JUDGE); null for OBJECTIVE.',
  })
  by!: string | null;

  @Field(() => Boolean, {
    description: 'Judged by the offline model: deterministic, not a real judge.',
  })
  offline!: boolean;

  @Field(() => String, { description: 'Run or Task.' })
  subjectLabel!: string;

  @Field(() => ID, { description: 'The id of the run or task it judges.' })
  subjectId!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType({ description: 'Something the platform learned or decided, after it committed.' })
export class EvolutionEvent {
  @Field(() => EvolutionEventKind)
  kind!: EvolutionEventKind;

  @Field(() => String, { description: 'Run, Task, Knowledge, AgentVersion or Agent.' })
  subjectLabel!: string;

  @Field(() => ID)
  subjectId!: string;

  @Field(() => String, { description: 'What happened and why, in a line.' })
  summary!: string;
}
