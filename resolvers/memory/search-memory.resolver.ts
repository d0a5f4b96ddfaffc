import { DateTimeISOResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../../schema/enums.js';
import { MemoryScope } from '../../schema/memory/enums.js';
import { MemoryHit } from '../../schema/memory/search-memory.type.js';
import { ForbiddenError } from '../../src/domain/errors.js';
import type { AppContext } from '../../src/server/context.js';
import { LIMITS } from '../../src/domain/validate.js';
import { DEFAULT_HITS, MAX_HITS } from '../../src/memory/retrieval/search.js';
import { adminView, keyView } from '../../src/memory/view.js';

@Authorized(Role.VIEWER)
@Resolver(() => MemoryHit)
export class SearchMemoryResolver {
  @Query(() => [MemoryHit], {
    description: `Hybrid search over memory (entities, facts, episodes, knowledge items): full-text (BM25), vector similarity and graph distance from \`focusId\`, fused by reciprocal rank (k = 60), best first, ties by id. Facts are the current ones, or those valid and known at \`asOf\`. Agent- and task-private memories need an ADMIN key; other keys see the tenant's shared memory. The query is taken literally, 1 to ${LIMITS.search} characters. NOT_FOUND when focusId is not an agent, task or entity the key may see.`,
  })
  searchMemory(
    @Arg('query', () => String) query: string,
    @Ctx() ctx: AppContext,
    @Arg('focusId', () => ID, {
      nullable: true,
      description: 'An agent, task or entity: memories up to 3 hops from it rank higher.',
    })
    focusId?: string | null,
    @Arg('asOf', () => DateTimeISOResolver, {
      nullable: true,
      description: 'What was valid and known at this time; now when left out.',
    })
    asOf?: Date | null,
    @Arg('scopes', () => [MemoryScope], {
      nullable: true,
      description:
        'The episode scopes to search (and the entities and facts learned from them): all for an ADMIN key, TENANT for others, when left out.',
    })
    scopes?: MemoryScope[] | null,
    @Arg('first', () => Int, { defaultValue: DEFAULT_HITS, description: `1 to ${MAX_HITS}.` })
    first?: number,
    @Arg('mmr', () => Boolean, {
      defaultValue: false,
      description: 'Diversify with maximal marginal relevance (near-duplicates give way).',
    })
    mmr?: boolean,
  ): Promise<MemoryHit[]> {
    const view = keyView(ctx.principal);
    if (scopes?.some((s) => !view.scopes.includes(s))) {
      throw new ForbiddenError(
        'scopes AGENT and TASK (agent- and task-private memory) need an ADMIN key; leave scopes out or pass [TENANT]',
      );
    }
    return ctx.services.memorySearch.search(ctx.tenantId, {
      query,
      focusId: focusId ?? null,
      asOf: asOf ? new Date(asOf).toISOString() : null,
      view: scopes ? adminView(scopes) : view,
      first: first ?? DEFAULT_HITS,
      mmr: mmr ?? false,
    });
  }
}
