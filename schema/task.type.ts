import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Agent } from './agent.type.js';
import { Connection } from './connection.type.js';
import { ApprovalDecision, FailurePolicy, TaskPriority, TaskStatus } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({ implements: Node, description: 'A unit of work; plans are trees and DAGs of tasks.' })
export class Task extends Node {
  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "What kind of task it is (lessons and skills are scoped to it): given, else derived from the root's title.",
  })
  family!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'What the step should produce: its plan step’s output, or given on createTask(s); the judge checks results against it.',
  })
  expectedOutput?: string | null;

  @Field(() => TaskPriority)
  priority!: TaskPriority;

  @Field(() => TaskStatus)
  status!: TaskStatus;

  @Field(() => String, { nullable: true })
  result!: string | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why this READY step is not running yet, e.g. waiting for a free Chief of Staff; null once it runs. A submitted task in AWAITING_APPROVAL whose plan waits for approvePlan says "the plan waits for approval".',
  })
  waitingReason!: string | null;

  @Field(() => Int, { description: 'Runs started for this task.' })
  attempts!: number;

  @Field(() => Int, { description: 'Attempts allowed before the task ends FAILED.' })
  maxAttempts!: number;

  @Field(() => String, { nullable: true, description: 'The step’s name in its plan.' })
  key!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Condition on the dependencies’ outputs; false makes the step SKIPPED.',
  })
  condition!: string | null;

  @Field(() => Boolean, { description: 'The step waits in AWAITING_APPROVAL before it runs.' })
  requiresApproval!: boolean;

  @Field(() => FailurePolicy, { description: 'For a parent: what a failed step does.' })
  failurePolicy!: FailurePolicy;

  @Field(() => Boolean, { description: 'Run by the orchestration engine (startWorkflow).' })
  orchestrated!: boolean;

  @Field(() => Boolean, {
    description:
      'A submitted task whose plan waits in AWAITING_APPROVAL for approvePlan or rejectPlan before any step runs.',
  })
  planApproval!: boolean;

  @Field(() => Boolean, {
    description:
      'approvePlan removed this step from its plan: it never runs, its parent settles without it and retryTask leaves it alone. A step a person had cancelled before stays CANCELLED, and this tells why it does not count.',
  })
  removedFromPlan!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Why the last plan was rejected (rejectPlan): the Chief of Staff plans with it.',
  })
  planFeedback!: string | null;

  @Field(() => ApprovalDecision, { nullable: true })
  decision!: ApprovalDecision | null;

  @Field(() => String, { nullable: true, description: 'Who approved or rejected it.' })
  decidedBy!: string | null;

  @Field(() => String, { nullable: true })
  decisionComment!: string | null;

  @Field(() => String, { nullable: true, description: 'Who created it: a user or an agent.' })
  createdBy!: string | null;

  @Field(() => Int, { description: 'Counts writes to this task.' })
  version!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType({ description: 'Who a task is assigned to, and why.' })
export class Assignment {
  @Field(() => Agent)
  agent!: Agent;

  @Field(() => Float, { nullable: true, description: 'Assignment score; null when by hand.' })
  score!: number | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  assignedAt!: string | null;
}

@ObjectType()
export class TaskConnection extends Connection(Task) {}

@ObjectType({ description: 'A task that changed, and how.' })
export class TaskUpdate {
  @Field(() => Task)
  task!: Task;

  @Field(() => String, {
    description:
      'What happened: CREATED, UPDATED, ASSIGNED, UNASSIGNED; SUBMITTED (submitTask), WORKFLOW_STARTED (startWorkflow), STARTED (a worker took the step), APPROVED or REJECTED (approveTask, rejectTask), PLAN_APPROVED or PLAN_REJECTED, TOOL_CALL_DECIDED, REASSIGNING (its agent stopped taking work), LEASE_EXPIRED (its worker was lost); STATUS_CHANGED for any other change of status.',
  })
  change!: string;

  @Field(() => Int, {
    description:
      "The task's event number: 1 for its first, one more for each after it, in commit order. The numbers a subscriber hears for a task go up by one, unless an event came too late to keep its place (its writer died before publishing it) and was left out: on a gap, query the task. 0 on events from before tasks' events were numbered.",
  })
  seq!: number;
}
