import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConsensusStrategy } from '../src/domain/consensus.js';

registerEnumType(ConsensusStrategy, {
  name: 'ConsensusStrategy',
  description:
    'MAJORITY: the answer most voters gave (compared as normalised text); JUDGE: the evaluation judge picks the best answer.',
});

@InputType({
  description:
    'Answer the step by several Master Operators with its capabilities, independently, then decide.',
})
export class ConsensusInput {
  @Field(() => Int, {
    description:
      '2 to 7. With fewer operators available the vote uses all of them (at least 2, else the step fails).',
  })
  voters!: number;

  @Field(() => ConsensusStrategy)
  strategy!: ConsensusStrategy;
}

@ObjectType({ description: 'How a step is decided by several agents.' })
export class ConsensusSpec {
  @Field(() => Int)
  voters!: number;

  @Field(() => ConsensusStrategy)
  strategy!: ConsensusStrategy;
}

@ObjectType({ description: "One voter's answer to a consensus step." })
export class Answer {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  content!: string;

  @Field(() => Int, { description: "The voter's place in the vote, 0 first." })
  position!: number;

  @Field(() => Int, {
    description: 'How many answers, this one included, say the same (normalised text).',
  })
  votes!: number;

  @Field(() => Boolean, { description: 'The decision chose it: it is the step’s result.' })
  chosen!: boolean;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  /** Not a field: `agent` resolves it. */
  agentId!: string;
  /** Not a field. */
  runId!: string;
}

@ObjectType({ description: 'How a consensus step was decided, and from which answers.' })
export class Decision {
  @Field(() => ID)
  id!: string;

  @Field(() => ConsensusStrategy)
  strategy!: ConsensusStrategy;

  @Field(() => Int, { description: 'Voters asked for; `answers` shows who answered.' })
  voters!: number;

  @Field(() => Int, { description: "The chosen answer's votes." })
  votes!: number;

  @Field(() => Boolean, {
    description: 'MAJORITY: the top count was shared; `reason` says how the tie was broken.',
  })
  tie!: boolean;

  @Field(() => String, { description: 'Why this answer: the count, or the judge’s reason.' })
  reason!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  /** Not a field: `chosen` resolves it. */
  answerId!: string;
  /** Not a field: `answers` resolves it. */
  runId!: string;
}
