import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { VersionOrigin, VersionStatus } from '../src/domain/agent-version.js';

registerEnumType(VersionStatus, {
  name: 'AgentVersionStatus',
  description:
    "CANDIDATE runs a canary share of the agent's runs; LIVE is the one the agent runs; RETIRED was replaced; ROLLED_BACK lost its canary or was rolled back by hand.",
});
registerEnumType(VersionOrigin, {
  name: 'AgentVersionOrigin',
  description: 'PERSON: createAgent, updateAgent, a rollback; PLATFORM: proposeAgentVersion.',
});

@ObjectType({ description: 'A change of state of an agent version, with its reason.' })
export class AgentVersionTransition {
  @Field(() => ID)
  id!: string;

  @Field(() => VersionStatus, { nullable: true, description: 'Null when it was created.' })
  from!: VersionStatus | null;

  @Field(() => VersionStatus)
  to!: VersionStatus;

  @Field(() => String)
  reason!: string;

  @Field(() => String, { description: 'PLATFORM, or the person (API key name) who decided.' })
  actor!: string;

  @Field(() => DateTimeISOResolver)
  at!: string;
}

@ObjectType({
  description:
    "What defines an agent's behaviour (instructions, model, temperature, tools, lesson budget), with its evidence: the runs that used it and their mean score.",
})
export class AgentVersion {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => Int, { description: "1 for the agent's first version, one more for each next." })
  version!: number;

  @Field(() => VersionStatus)
  status!: VersionStatus;

  @Field(() => VersionOrigin)
  origin!: VersionOrigin;

  @Field(() => String, { nullable: true, description: 'The instructions (system prompt).' })
  systemPrompt!: string | null;

  @Field(() => String, { nullable: true })
  model!: string | null;

  @Field(() => Float, { nullable: true })
  temperature!: number | null;

  @Field(() => [String], { description: 'Tools it may use; empty: all.' })
  tools!: string[];

  @Field(() => Int, { nullable: true })
  lessonBudget!: number | null;

  @Field(() => String, { description: 'Why it exists: a rationale, or the change a person made.' })
  reason!: string;

  @Field(() => Float, { description: "A candidate's share of the agent's runs; 0 for others." })
  canaryShare!: number;

  @Field(() => ID, { nullable: true, description: 'The version it EVOLVED_FROM.' })
  parentId!: string | null;

  @Field(() => Int, { description: 'Runs that used it (USED_VERSION).' })
  runs!: number;

  @Field(() => Int, { description: 'Of those, runs with an evaluation.' })
  evaluatedRuns!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Mean effective score of its evaluated runs; null when none.',
  })
  meanScore!: number | null;

  @Field(() => [AgentVersionTransition], { description: 'Its changes of state, oldest first.' })
  transitions!: AgentVersionTransition[];

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}
