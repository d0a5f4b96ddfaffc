import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { AgentRole, AgentStatus } from './enums.js';
import { Connection } from './connection.type.js';
import { Node } from './node.type.js';

@ObjectType({ implements: Node, description: 'An AI agent of the organisation.' })
export class Agent extends Node {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => AgentRole)
  role!: AgentRole;

  @Field(() => AgentStatus)
  status!: AgentStatus;

  @Field(() => Boolean, { description: 'Only active agents take new work.' })
  active!: boolean;

  @Field(() => String, { nullable: true, description: 'Preferred model, e.g. gpt-4o-mini.' })
  model!: string | null;

  @Field(() => String, { nullable: true })
  systemPrompt!: string | null;

  @Field(() => Int, {
    description:
      'The number of its LIVE version (agentVersions); a behaviour change makes a new one.',
  })
  version!: number;

  @Field(() => Float, { nullable: true, description: "The live version's sampling temperature." })
  temperature?: number | null;

  @Field(() => [String], { description: 'Tools the live version may use; empty: all.' })
  tools?: string[];

  @Field(() => Int, {
    nullable: true,
    description: 'Most lessons in its prompts; null: the default.',
  })
  lessonBudget?: number | null;

  @Field(() => Boolean, {
    description:
      "Only meaningful for a CHIEF_OF_STAFF: the plans it writes wait for approvePlan unless submitTask's planApproval says otherwise.",
  })
  reviewPlans?: boolean;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType({ description: 'A capability an agent has, with its running statistics.' })
export class AgentCapability {
  @Field(() => String)
  name!: string;

  @Field(() => Float, { description: 'Self-declared skill, 0 to 1.' })
  proficiency!: number;

  @Field(() => Int, { description: 'Runs of tasks requiring this capability.' })
  runs!: number;

  @Field(() => Int)
  successes!: number;

  @Field(() => Float)
  avgLatencyMs!: number;

  @Field(() => Float)
  avgCostUsd!: number;
}

@ObjectType({ description: 'How many tasks are in one status.' })
export class StatusCount {
  @Field(() => String)
  status!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class AgentConnection extends Connection(Agent) {}

@ObjectType({ description: 'What deleting an agent did.' })
export class DeleteAgentResult {
  @Field(() => ID)
  id!: string;

  @Field(() => [ID], { description: 'Unfinished tasks handed to `reassignTo`.' })
  reassignedTaskIds!: string[];
}

@ObjectType({ description: 'An agent whose status changed (or that was created).' })
export class AgentStatusChange {
  @Field(() => Agent)
  agent!: Agent;

  @Field(() => AgentStatus, {
    nullable: true,
    description: 'Null when the agent was just created.',
  })
  previousStatus!: AgentStatus | null;
}
