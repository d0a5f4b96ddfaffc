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
  Subscription,
} from 'type-graphql';
import { RESUME_AFTER } from './args.js';
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type ToolCalledEvent } from '../subscriptions/topics.js';
import { Role } from '../schema/enums.js';
import {
  McpTool,
  ToolCall,
  ToolGrant,
  ToolServer,
  ToolServerInput,
  ToolServerPatch,
} from '../schema/tool-server.type.js';
import { Run } from '../schema/workflow.type.js';
import type { AppContext } from '../src/server/context.js';
import {
  isDestructive,
  listedTools,
  type ToolCallRecord,
  type ToolServer as Served,
} from '../src/domain/tool-server.js';

/** Outside MCP servers for agents (issue 16): ADMINs manage them, everyone may look. */
@Authorized(Role.VIEWER)
@Resolver(() => ToolServer)
export class ToolServerResolver {
  @Query(() => [ToolServer], { description: "The tenant's MCP tool servers, by name." })
  toolServers(@Ctx() ctx: AppContext): Promise<Served[]> {
    return ctx.services.toolServers.list(ctx.tenantId) as Promise<Served[]>;
  }

  @Query(() => ToolServer, { description: "One MCP tool server; NOT_FOUND when not the tenant's." })
  toolServer(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Served> {
    return ctx.services.toolServers.byId(ctx.tenantId, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ToolServer, {
    description:
      'Adds an MCP server and lists its tools (a failure is kept in lastError; the server is saved). STDIO servers must be on the deployment allow-list (MCP_STDIO_ALLOW).',
  })
  addToolServer(
    @Arg('input', () => ToolServerInput) input: ToolServerInput,
    @Ctx() ctx: AppContext,
  ): Promise<Served> {
    return ctx.services.toolServers.add(ctx.tenantId, input, ctx.actor);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ToolServer, {
    description: 'Changes a server; open sessions to it close, and its tools are listed again.',
  })
  updateToolServer(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ToolServerPatch) input: ToolServerPatch,
    @Ctx() ctx: AppContext,
  ): Promise<Served> {
    return ctx.services.toolServers.update(ctx.tenantId, id, input, ctx.actor);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      "Removes a server, its grants and its tools' policies (a later server of its name " +
      'starts with none).',
  })
  removeToolServer(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.toolServers.remove(ctx.tenantId, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ToolServer, { description: "Lists the server's tools again." })
  refreshToolServer(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Served> {
    return ctx.services.toolServers.refresh(ctx.tenantId, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ToolServer, {
    description:
      "Lets one agent (agentId), or every agent with a capability, use some (tools) or all of a server's tools; replaces that agent's or capability's earlier grant.",
  })
  grantTools(
    @Arg('serverId', () => ID) serverId: string,
    @Ctx() ctx: AppContext,
    @Arg('agentId', () => ID, { nullable: true }) agentId?: string | null,
    @Arg('capability', () => String, { nullable: true }) capability?: string | null,
    @Arg('tools', () => [String], { nullable: true }) tools?: string[] | null,
  ): Promise<Served> {
    return ctx.services.toolServers.grant(ctx.tenantId, {
      serverId,
      agentId,
      capability,
      tools,
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      'Takes a grant back; false when there was none (NOT_FOUND: no such server or agent).',
  })
  revokeTools(
    @Arg('serverId', () => ID) serverId: string,
    @Ctx() ctx: AppContext,
    @Arg('agentId', () => ID, { nullable: true }) agentId?: string | null,
    @Arg('capability', () => String, { nullable: true }) capability?: string | null,
  ): Promise<boolean> {
    return ctx.services.toolServers.revoke(ctx.tenantId, { serverId, agentId, capability });
  }

  @FieldResolver(() => [McpTool])
  tools(@Root() server: Served): McpTool[] {
    return listedTools(server).map(({ tool: t, qualifiedName, unusable }) => ({
      name: t.name,
      qualifiedName,
      unusable,
      description: t.description ?? null,
      inputSchema: JSON.stringify(t.inputSchema ?? {}),
      annotations: {
        title: t.annotations?.title ?? null,
        readOnlyHint: t.annotations?.readOnlyHint ?? null,
        destructiveHint: t.annotations?.destructiveHint ?? null,
        idempotentHint: t.annotations?.idempotentHint ?? null,
        openWorldHint: t.annotations?.openWorldHint ?? null,
      },
      destructive: isDestructive(t.annotations),
    }));
  }

  @FieldResolver(() => [ToolGrant], { description: 'Who may use it.' })
  grants(@Root() server: Served, @Ctx() ctx: AppContext): Promise<ToolGrant[]> {
    return ctx.loaders.toolGrants.load(server.id);
  }
}

/** Agents' MCP tool calls as they end (issue 16). */
@Authorized(Role.VIEWER)
@Resolver(() => ToolCall)
export class ToolCallEventsResolver {
  @Subscription(() => ToolCall, {
    topics: TOPICS.toolCalled,
    topicId: ({ args, context }) =>
      tenantEvents<ToolCalledEvent>(
        (context as AppContext).tenantId,
        (e) =>
          (!args.taskId || e.toolCall.taskId === args.taskId) &&
          (!args.agentId || e.toolCall.agentId === args.agentId),
        (args as { after?: string | null }).after,
      ),
    description: "Agents' calls to MCP tools as each ends and is recorded, for one task or agent.",
  })
  toolCalls(
    @Root() event: ToolCalledEvent,
    @Arg('taskId', () => ID, { nullable: true }) _taskId?: string | null,
    @Arg('agentId', () => ID, { nullable: true }) _agentId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): ToolCallRecord {
    return event.toolCall;
  }
}

/** The MCP tool calls of a run (issue 16). */
@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunToolCallsResolver {
  @FieldResolver(() => [ToolCall], {
    description: "The run's MCP tool calls, in order (issue 16).",
  })
  toolCalls(@Root() run: Run, @Ctx() ctx: AppContext): Promise<ToolCallRecord[]> {
    return ctx.loaders.toolCalls.load(run.id);
  }
}
