import { Field, InputType } from 'type-graphql';
import { TaskPriority } from './enums.js';

@InputType({
  description:
    'Changes to one step of a waiting plan, named by its key; omitted or null fields stay.',
})
export class PlanStepChangeInput {
  @Field(() => String, { description: 'The key of the step to change.' })
  key!: string;

  @Field(() => String, { nullable: true, description: '1 to 200 characters.' })
  title?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'What the operator should do and produce.',
  })
  description?: string | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the capabilities it needs.' })
  capabilities?: string[] | null;

  @Field(() => TaskPriority, { nullable: true })
  priority?: TaskPriority | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Replaces its dependencies: keys of steps of the edited plan.',
  })
  dependsOn?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'A condition on the dependencies’ outputs; "" removes it.',
  })
  condition?: string | null;
}

@InputType({ description: 'A step to add to a waiting plan.' })
export class PlanStepInput {
  @Field(() => String, {
    description: 'A new key, unique in the plan: letters, digits, "_" or "-"; not "synthesis".',
  })
  key!: string;

  @Field(() => String, { description: '1 to 200 characters.' })
  title!: string;

  @Field(() => String, {
    nullable: true,
    description: 'What the operator should do and produce.',
  })
  description?: string | null;

  @Field(() => [String], { nullable: true, description: 'Capabilities it needs.' })
  capabilities?: string[] | null;

  @Field(() => TaskPriority, { nullable: true, description: 'Default: the task’s priority.' })
  priority?: TaskPriority | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Keys of the steps that must finish first.',
  })
  dependsOn?: string[] | null;

  @Field(() => String, { nullable: true, description: 'Run only if this holds.' })
  condition?: string | null;
}

@InputType({
  description:
    'A person’s edits to a plan before approving it. The edited plan is checked like a model’s plan (unique keys, known dependencies, no cycle, valid conditions, 1 to 20 steps) and refused whole, naming the edit, when it breaks a rule.',
})
export class PlanEditsInput {
  @Field(() => [PlanStepChangeInput], { nullable: true })
  change?: PlanStepChangeInput[] | null;

  @Field(() => [PlanStepInput], { nullable: true })
  add?: PlanStepInput[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Keys of steps to remove; they are SKIPPED and never run.',
  })
  remove?: string[] | null;
}
