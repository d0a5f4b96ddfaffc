import { Arg, Authorized, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { Checkpoint } from '../schema/checkpoint.type.js';
import { Role } from '../schema/enums.js';
import { Run } from '../schema/workflow.type.js';
import { runCheckpointsLoader } from '../src/agents/checkpoint/loaders.js';
import type { AppContext } from '../src/server/context.js';
import { pageSize } from '../src/domain/page.js';

/** A run's agent-loop checkpoints (issue 13), read only. */
@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunCheckpointsResolver {
  @FieldResolver(() => [Checkpoint], {
    description: "The run's agent-loop checkpoints, newest first (at most `first`, 1 to 100).",
  })
  checkpoints(
    @Root() run: Run,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
  ): Promise<Checkpoint[]> {
    return runCheckpointsLoader(ctx, pageSize(first ?? 20)).load(run.id);
  }
}
