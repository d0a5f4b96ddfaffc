import { RESUME_AFTER } from './args.js';
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Mutation,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Role } from '../schema/enums.js';
import { Evaluation, EvolutionEvent, EvolutionEventKind } from '../schema/evaluation.type.js';
import { Task } from '../schema/task.type.js';
import { Run } from '../schema/workflow.type.js';
import type { AppContext } from '../src/server/context.js';
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type EvolutionEvent as EvolutionPayload } from '../subscriptions/topics.js';

/**
 * A subject's evaluations are few (one per source, plus one per person) and load in one
 * batched round trip per level: only their own fields count toward a query's complexity.
 * Without this, query.agents' nested tasks went over the default limit (tenancy walk).
 */
const BATCHED = 0;

const RATE_SCORE = 'From 0 (useless) to 1 (exactly right).';
const RATE_COMMENT = 'Why, in up to 2000 characters.';

/** Ratings by people, and the evolution topic. */
@Authorized(Role.VIEWER)
@Resolver(() => Evaluation)
export class EvaluationResolver {
  @Authorized(Role.OPERATOR)
  @Mutation(() => Evaluation, {
    description:
      "Rates a finished task (COMPLETED, FAILED, CANCELLED or SKIPPED): your rating outranks the judge's; rating again replaces yours.",
  })
  rateTask(
    @Arg('taskId', () => ID) taskId: string,
    @Arg('score', () => Float, { description: RATE_SCORE }) score: number,
    @Ctx() ctx: AppContext,
    @Arg('comment', () => String, { nullable: true, description: RATE_COMMENT })
    comment?: string | null,
  ): Promise<Evaluation> {
    return ctx.services.evaluations.rate(ctx.tenantId, ctx.actor, 'Task', taskId, score, comment);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Evaluation, {
    description:
      "Rates a run that has ended: your rating outranks the judge's; rating again replaces yours.",
  })
  rateRun(
    @Arg('runId', () => ID) runId: string,
    @Arg('score', () => Float, { description: RATE_SCORE }) score: number,
    @Ctx() ctx: AppContext,
    @Arg('comment', () => String, { nullable: true, description: RATE_COMMENT })
    comment?: string | null,
  ): Promise<Evaluation> {
    return ctx.services.evaluations.rate(ctx.tenantId, ctx.actor, 'Run', runId, score, comment);
  }

  @Subscription(() => EvolutionEvent, {
    topics: TOPICS.evolution,
    // Filtered in publish(), before buffering: another tenant's events never reach this one.
    topicId: ({ args, context }) =>
      tenantEvents<EvolutionPayload>(
        (context as AppContext).tenantId,
        (e) => !args.kinds?.length || (args.kinds as string[]).includes(e.kind),
        (args as { after?: string | null }).after,
      ),
    description:
      'What the platform learns and decides, as it commits: evaluations, lessons, skills, versions, spawned agents, consensus. All kinds unless `kinds` names some.',
  })
  evolutionEvents(
    @Root() event: EvolutionPayload,
    @Arg('kinds', () => [EvolutionEventKind], { nullable: true })
    _kinds?: EvolutionEventKind[] | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): EvolutionEvent {
    return {
      kind: event.kind as EvolutionEventKind,
      subjectLabel: event.subjectLabel,
      subjectId: event.subjectId,
      summary: event.summary,
    };
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunEvaluationResolver {
  @FieldResolver(() => [Evaluation], {
    description: 'Every evaluation of this run, newest first.',
    complexity: BATCHED,
  })
  evaluations(@Root() run: Run, @Ctx() ctx: AppContext): Promise<Evaluation[]> {
    return ctx.loaders.evaluations.ofRuns.load(run.id);
  }

  @FieldResolver(() => Evaluation, {
    nullable: true,
    description: "The evaluation that counts: a person's over the judge's over the objective one.",
    complexity: BATCHED,
  })
  async evaluation(@Root() run: Run, @Ctx() ctx: AppContext): Promise<Evaluation | null> {
    return (await ctx.loaders.evaluations.effectiveOfRuns.load(run.id))[0] ?? null;
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class TaskEvaluationResolver {
  @FieldResolver(() => [Evaluation], {
    description:
      'Every evaluation of this task (a root task: OBJECTIVE, JUDGE, PERSON), newest first.',
    complexity: BATCHED,
  })
  evaluations(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Evaluation[]> {
    return ctx.loaders.evaluations.ofTasks.load(task.id);
  }

  @FieldResolver(() => Evaluation, {
    nullable: true,
    description: "The evaluation that counts: a person's over the judge's over the objective one.",
    complexity: BATCHED,
  })
  async evaluation(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Evaluation | null> {
    return (await ctx.loaders.evaluations.effectiveOfTasks.load(task.id))[0] ?? null;
  }
}
