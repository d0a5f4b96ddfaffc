import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  InputType,
  Mutation,
  Resolver,
  Root,
} from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { Role } from '../schema/enums.js';
import { ToolServerHeaderInput } from '../schema/tool-server.type.js';
import type { AppContext } from '../src/server/context.js';
import type { Agent as AgentRecord } from '../src/domain/agent.js';

@InputType({ description: 'An outside A2A agent to add to the organisation as a Master Operator.' })
export class RemoteAgentInput {
  @Field(() => String, { description: '1 to 100 characters, unique in the organisation.' })
  name!: string;
  @Field(() => String, {
    description: 'Its base URL: its card is at url + /.well-known/agent-card.json.',
  })
  url!: string;
  @Field(() => String, { nullable: true, description: "Its card's description when left out." })
  description?: string | null;
  @Field(() => [String], {
    nullable: true,
    description: "What steps it is given; its card's skills when left out.",
  })
  capabilities?: string[] | null;
  @Field(() => [ToolServerHeaderInput], { nullable: true, description: 'Sent with each request.' })
  headers?: ToolServerHeaderInput[] | null;
}

/** Outside A2A agents as members of the organisation (issue 16). */
@Resolver(() => Agent)
export class RemoteAgentResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => Agent, {
    description:
      "Adds an outside A2A agent as a Master Operator, from its card: Chiefs of Staff give it steps by capability, and each is sent to it as an A2A message (recorded on the run's toolCalls).",
  })
  addRemoteAgent(
    @Arg('input', () => RemoteAgentInput) input: RemoteAgentInput,
    @Ctx() ctx: AppContext,
  ): Promise<AgentRecord> {
    return ctx.services.remoteAgents.add(ctx.tenantId, input, ctx.actor);
  }

  @Authorized(Role.VIEWER)
  @FieldResolver(() => String, {
    nullable: true,
    description: 'The outside A2A agent it stands for (its base URL); null for the platform’s own.',
  })
  remoteUrl(@Root() agent: AgentRecord): string | null {
    return agent.remote?.url ?? null;
  }
}
