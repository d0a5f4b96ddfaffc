import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { Role } from '../schema/enums.js';
import { Task } from '../schema/task.type.js';
import { ToolCallRequest, ToolPolicy, ToolPolicyInput } from '../schema/tool-approval.type.js';
import type { AppContext } from '../src/server/context.js';
import { ToolCallDecision } from '../src/domain/tool-approval.js';

/** Tool-call approval (issue 13): policies per tool, and people's decisions on held calls. */
@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class ToolApprovalResolver {
  @Query(() => [ToolPolicy], { description: "The tenant's tool approval policies, by tool." })
  toolPolicies(@Ctx() ctx: AppContext): Promise<ToolPolicy[]> {
    return ctx.services.toolApproval.policies(ctx.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ToolPolicy, {
    description:
      "Sets whether a tool's calls wait for a person (ALWAYS, NEVER, or WHEN the agent's role or the task's priority says so). Applies to steps that start after it.",
  })
  setToolPolicy(
    @Arg('input', () => ToolPolicyInput) input: ToolPolicyInput,
    @Ctx() ctx: AppContext,
  ): Promise<ToolPolicy> {
    return ctx.services.toolApproval.setPolicy(ctx.tenantId, input, ctx.actor);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: "Removes a tool's policy; false when it had none." })
  removeToolPolicy(
    @Arg('tool', () => String) tool: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return ctx.services.toolApproval.removePolicy(ctx.tenantId, tool);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => ToolCallRequest, {
    description:
      "Decides one tool call a step waits for, by its run and call id: APPROVE, EDIT (args: a JSON object for the tool) or REJECT (reason, optional: what the agent reads as the call's answer). Once none of the step's calls waits, it resumes from its checkpoint.",
  })
  resolveToolCall(
    @Arg('runId', () => ID) runId: string,
    @Arg('callId', () => String) callId: string,
    @Arg('decision', () => ToolCallDecision) decision: ToolCallDecision,
    @Ctx() ctx: AppContext,
    @Arg('args', () => String, { nullable: true }) args?: string | null,
    @Arg('reason', () => String, {
      nullable: true,
      description: "Why, 1 to 10000 characters: a REJECT's is what the agent reads.",
    })
    reason?: string | null,
  ): Promise<ToolCallRequest> {
    return ctx.services.toolApproval.resolve(
      ctx.tenantId,
      { runId, callId, decision, args, reason },
      ctx.actor,
    );
  }

  @FieldResolver(() => [ToolCallRequest], {
    description: 'Tool calls of this step that wait (PENDING first) or were decided (issue 13).',
  })
  toolCallRequests(@Root() task: Task, @Ctx() ctx: AppContext): Promise<ToolCallRequest[]> {
    return ctx.loaders.toolCallRequests.load(task.id);
  }
}
