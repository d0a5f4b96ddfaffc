import { Field, Float, InputType, Int } from 'type-graphql';
import { AgentRole, AgentStatus } from './enums.js';

@InputType()
export class CapabilityInput {
  @Field(() => String)
  name!: string;

  @Field(() => Float, { nullable: true, description: '0 to 1; default 0.5.' })
  proficiency?: number | null;
}

@InputType()
export class CreateAgentInput {
  @Field(() => String, { description: '1 to 100 characters, unique in the organisation.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => AgentRole)
  role!: AgentRole;

  @Field(() => String, { nullable: true })
  model?: string | null;

  @Field(() => String, { nullable: true })
  systemPrompt?: string | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Sampling temperature, 0 to 2; null: the provider default.',
  })
  temperature?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Tools the agent may use; empty or null: all.',
  })
  tools?: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Most lessons in its prompts, 0 to 50; null: the default.',
  })
  lessonBudget?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Only meaningful for a CHIEF_OF_STAFF: the plans it writes for submitted tasks wait in AWAITING_APPROVAL for approvePlan or rejectPlan (submitTask's planApproval overrides it per task). Default false.",
  })
  reviewPlans?: boolean | null;

  @Field(() => [CapabilityInput], { nullable: true })
  capabilities?: CapabilityInput[] | null;
}

@InputType({ description: 'Fields to change; omitted fields stay, null clears an optional one.' })
export class UpdateAgentInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => AgentRole, { nullable: true })
  role?: AgentRole | null;

  @Field(() => String, { nullable: true })
  model?: string | null;

  @Field(() => String, { nullable: true })
  systemPrompt?: string | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Sampling temperature, 0 to 2; null: the provider default.',
  })
  temperature?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Tools the agent may use; empty or null: all.',
  })
  tools?: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Most lessons in its prompts, 0 to 50; null: the default.',
  })
  lessonBudget?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Only meaningful for a CHIEF_OF_STAFF: the plans it writes for submitted tasks wait in AWAITING_APPROVAL for approvePlan or rejectPlan (submitTask's planApproval overrides it per task). Null: unchanged.",
  })
  reviewPlans?: boolean | null;

  @Field(() => [CapabilityInput], {
    nullable: true,
    description: 'Replaces the capabilities; statistics of kept ones are kept.',
  })
  capabilities?: CapabilityInput[] | null;
}

@InputType()
export class AgentFilter {
  @Field(() => AgentRole, { nullable: true })
  role?: AgentRole | null;

  @Field(() => [AgentStatus], { nullable: true })
  status?: AgentStatus[] | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Has this capability.' })
  capability?: string | null;

  @Field(() => String, { nullable: true, description: 'In the name or description.' })
  text?: string | null;
}
