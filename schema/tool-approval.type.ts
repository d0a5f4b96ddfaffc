import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { AgentRole } from '../src/domain/agent.js';
import { TaskPriority } from '../src/domain/task.js';
import {
  ToolApprovalMode,
  ToolCallDecision,
  ToolCallRequestStatus,
} from '../src/domain/tool-approval.js';
import './enums.js';

registerEnumType(ToolApprovalMode, {
  name: 'ToolApprovalMode',
  description:
    "ALWAYS: every call of the tool waits for a person; NEVER: none does; WHEN: a call waits when the agent has one of the policy's roles or the task is at least its minPriority.",
});
registerEnumType(ToolCallDecision, {
  name: 'ToolCallDecision',
  description:
    'APPROVE runs the call; EDIT runs it with the args given; REJECT does not run it (the agent reads the reason).',
});
registerEnumType(ToolCallRequestStatus, { name: 'ToolCallRequestStatus' });

@ObjectType({ description: "Whether a tool's calls wait for a person's approval (issue 13)." })
export class ToolPolicy {
  @Field(() => String, {
    description: 'The tool, by the name agents call it (e.g. record_knowledge).',
  })
  tool!: string;

  @Field(() => ToolApprovalMode)
  mode!: ToolApprovalMode;

  @Field(() => [AgentRole], { description: 'WHEN: calls by agents with one of these roles wait.' })
  roles!: AgentRole[];

  @Field(() => TaskPriority, {
    nullable: true,
    description: 'WHEN: calls on tasks of this priority or higher wait.',
  })
  minPriority!: TaskPriority | null;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;

  @Field(() => String, { nullable: true, description: 'Who set it.' })
  updatedBy!: string | null;
}

@InputType()
export class ToolPolicyInput {
  @Field(() => String, {
    description:
      'A built-in tool (e.g. record_knowledge), or an outside one as server__tool that a tool server of the tenant lists and agents can use (McpTool.unusable is null).',
  })
  tool!: string;

  @Field(() => ToolApprovalMode)
  mode!: ToolApprovalMode;

  @Field(() => [AgentRole], { nullable: true, description: 'For WHEN only.' })
  roles?: AgentRole[] | null;

  @Field(() => TaskPriority, { nullable: true, description: 'For WHEN only.' })
  minPriority?: TaskPriority | null;
}

@ObjectType({
  description:
    "A tool call a step's agent loop stopped for, until a person decides it with resolveToolCall (issue 13). Its step waits in AWAITING_INPUT while any of its calls is PENDING.",
})
export class ToolCallRequest {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'The run that stopped for it: resolveToolCall names it.' })
  runId!: string;

  @Field(() => ID, { description: 'The task (step) it belongs to.' })
  taskId!: string;

  @Field(() => String, { description: "The model's id of the call: resolveToolCall names it." })
  callId!: string;

  @Field(() => String)
  tool!: string;

  @Field(() => String, { description: 'The arguments the model asked for, as JSON.' })
  args!: string;

  @Field(() => ToolCallRequestStatus)
  status!: ToolCallRequestStatus;

  @Field(() => String, {
    nullable: true,
    description: 'EDITED: the arguments it ran with, as JSON.',
  })
  editedArgs!: string | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  decidedBy!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  decidedAt!: string | null;

  @Field(() => DateTimeISOResolver)
  requestedAt!: string;
}
