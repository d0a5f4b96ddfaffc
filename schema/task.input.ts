import { Field, ID, InputType, Int } from 'type-graphql';
import { FailurePolicy, TaskPriority, TaskStatus } from './enums.js';
import { ConsensusInput } from './consensus.type.js';

@InputType()
export class CreateTaskInput {
  @Field(() => String, {
    nullable: true,
    description: 'A name for this task within a batch, for parentKey and dependsOnKeys.',
  })
  key?: string | null;

  @Field(() => String, { description: '1 to 200 characters.' })
  title!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => TaskPriority, { nullable: true, description: 'Default MEDIUM.' })
  priority?: TaskPriority | null;

  @Field(() => ID, { nullable: true })
  parentId?: string | null;

  @Field(() => String, { nullable: true, description: 'The key of a parent in the same batch.' })
  parentKey?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Tasks that must complete first; with dependsOnKeys, at most 100 tasks in all.',
  })
  dependsOn?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Keys of tasks in the same batch; with dependsOn, at most 100 tasks in all.',
  })
  dependsOnKeys?: string[] | null;

  @Field(() => [String], { nullable: true })
  requiredCapabilities?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Assign at once to this (active) agent.' })
  assigneeId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The agent that delegated it.' })
  delegatedById?: string | null;

  @Field(() => Int, { nullable: true, description: '1 to 10; default 3.' })
  maxAttempts?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A condition on the outputs of its dependencies, e.g. steps.check.output.score > 0.5 (see docs/architecture.md).',
  })
  condition?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Wait for approveTask before running.' })
  requiresApproval?: boolean | null;

  @Field(() => FailurePolicy, { nullable: true, description: 'For a parent; default FAIL_FAST.' })
  failurePolicy?: FailurePolicy | null;

  @Field(() => String, {
    nullable: true,
    description:
      'What the step should produce (up to 10000 characters); its run is judged against it.',
  })
  expectedOutput?: string | null;

  @Field(() => ConsensusInput, {
    nullable: true,
    description: 'Answered by several Master Operators, then decided (see Run.decision).',
  })
  consensus?: ConsensusInput | null;

  @Field(() => String, {
    nullable: true,
    description:
      'What kind of task it is, so lessons and skills of its kind apply (e.g. "weekly-report"); at most 80 characters, normalised to lower-case words joined by "-". Default: derived from the title (a step: its root\'s family).',
  })
  family?: string | null;
}

@InputType({ description: 'Fields to change; omitted fields stay.' })
export class UpdateTaskInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => TaskPriority, { nullable: true })
  priority?: TaskPriority | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the required capabilities.' })
  requiredCapabilities?: string[] | null;
}

@InputType()
export class TaskFilter {
  @Field(() => [TaskStatus], { nullable: true })
  status?: TaskStatus[] | null;

  @Field(() => [TaskPriority], { nullable: true })
  priority?: TaskPriority[] | null;

  @Field(() => ID, { nullable: true })
  assigneeId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Direct subtasks of this task.' })
  parentId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tasks without a parent.' })
  rootsOnly?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Requires this capability.' })
  capability?: string | null;

  @Field(() => String, { nullable: true, description: 'In the title or description.' })
  text?: string | null;
}

@InputType({
  description: 'A task for a Chief of Staff to plan and the organisation to carry out.',
})
export class SubmitTaskInput {
  @Field(() => String, { description: '1 to 200 characters.' })
  title!: string;

  @Field(() => String, {
    nullable: true,
    description: 'What is wanted; the plan is drawn from it.',
  })
  description?: string | null;

  @Field(() => TaskPriority, { nullable: true, description: 'Default MEDIUM.' })
  priority?: TaskPriority | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The Chief of Staff to plan it; default the active one with the fewest unfinished tasks.',
  })
  chiefOfStaffId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'What kind of task it is, so lessons and skills of its kind apply (e.g. "weekly-report"); at most 80 characters, normalised to lower-case words joined by "-". Default: derived from the title (a step: its root\'s family).',
  })
  family?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "The plan waits in AWAITING_APPROVAL for approvePlan (or rejectPlan) before any step runs. Null: the Chief of Staff's reviewPlans.",
  })
  planApproval?: boolean | null;
}
