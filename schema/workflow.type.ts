import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Task } from './task.type.js';

@ObjectType({ description: 'One attempt at a step, by one agent on one worker.' })
export class Run {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    description:
      'RUNNING, SUCCEEDED, FAILED, CANCELLED, ABORTED (its agent became inactive), ABANDONED (its lease was lost), RELEASED (its worker stopped and gave the step back) or INTERRUPTED (it waits for a person: held tool calls, a spent budget).',
  })
  status!: string;

  @Field(() => Int)
  attempt!: number;

  @Field(() => String, { nullable: true, description: 'The scheduler that ran it.' })
  worker!: string | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int, { nullable: true })
  latencyMs!: number | null;

  @Field(() => DateTimeISOResolver)
  startedAt!: string;

  @Field(() => DateTimeISOResolver, { nullable: true })
  endedAt!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The OpenTelemetry trace its step ran in (the request that started the workflow); null when tracing is off.',
  })
  traceId!: string | null;

  /** Not a field: `agent` resolves it. */
  agentId!: string | null;
}

@ObjectType({ description: 'An edge of a workflow: `from` is a subtask of, or depends on, `to`.' })
export class WorkflowEdge {
  @Field(() => ID)
  from!: string;

  @Field(() => ID)
  to!: string;

  @Field(() => String, { description: 'SUBTASK_OF or DEPENDS_ON.' })
  type!: string;
}

@ObjectType({ description: 'A task and everything below it, ready to draw.' })
export class Workflow {
  @Field(() => Task)
  root!: Task;

  @Field(() => [Task], {
    description:
      'The root first, then every task below it in plan order: a parent before its subtasks and a dependency before its dependants, else the oldest first (then by key and id). The same order on every read.',
  })
  tasks!: Task[];

  @Field(() => [WorkflowEdge])
  edges!: WorkflowEdge[];
}
