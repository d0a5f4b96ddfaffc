import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { Node } from '../schema/node.type.js';
import { SearchHit } from '../schema/search.type.js';
import { Role } from '../schema/enums.js';
import type { AppContext } from '../src/server/context.js';
import { keyView } from '../src/memory/view.js';

@Authorized(Role.VIEWER)
@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    description:
      'Any agent, task, message, conversation, knowledge item, entity or episode by id; NOT_FOUND when unknown, and for agent- or task-private memory unless the key is ADMIN.',
  })
  node(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Node> {
    return ctx.services.search.node(ctx.tenantId, id, keyView(ctx.principal));
  }

  @Query(() => [SearchHit], {
    description: 'Full-text search across tasks, messages and knowledge, best first.',
  })
  search(
    @Arg('query', () => String) query: string,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first?: number,
  ): Promise<SearchHit[]> {
    return ctx.services.search.search(ctx.tenantId, query, first ?? 20);
  }
}
