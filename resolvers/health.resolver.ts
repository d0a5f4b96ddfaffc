import { Ctx, Query, Resolver } from 'type-graphql';
import { Health } from '../schema/health.type.js';
import type { AppContext } from '../src/server/context.js';
import { VERSION } from '../src/version.js';

@Resolver()
export class HealthResolver {
  @Query(() => Health, { description: 'The platform version and whether Neo4j answers.' })
  async health(@Ctx() { graph }: AppContext): Promise<Health> {
    const version = await graph.serverVersion().catch(() => null);
    return { version: VERSION, neo4j: { up: version !== null, version, database: graph.database } };
  }
}
