import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { Answer, ConsensusSpec, Decision } from '../schema/consensus.type.js';
import { Role } from '../schema/enums.js';
import { Task } from '../schema/task.type.js';
import { Run } from '../schema/workflow.type.js';
import type { AppContext } from '../src/server/context.js';
import { consensusLoaders } from '../src/evolution/consensus/loaders.js';

/** Collective decisions (issue 12): a step's consensus spec, a run's decision and answers. */
@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class TaskConsensusResolver {
  @FieldResolver(() => ConsensusSpec, {
    nullable: true,
    description: 'How this step is decided by several agents; null when its own agent answers.',
  })
  consensus(@Root() task: Task, @Ctx() ctx: AppContext): Promise<ConsensusSpec | null> {
    return consensusLoaders(ctx).spec.load(task.id);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunDecisionResolver {
  @FieldResolver(() => Decision, {
    nullable: true,
    description: 'The consensus this run decided (a step with consensus); null otherwise.',
  })
  decision(@Root() run: Run, @Ctx() ctx: AppContext): Promise<Decision | null> {
    return consensusLoaders(ctx).decision.load(run.id);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Decision)
export class DecisionResolver {
  @FieldResolver(() => [Answer], { description: 'Every answer, in voter order.' })
  answers(@Root() decision: Decision, @Ctx() ctx: AppContext): Promise<Answer[]> {
    return consensusLoaders(ctx).answers.load(decision.runId);
  }

  @FieldResolver(() => Answer, {
    nullable: true,
    description: "The chosen answer: the step's result.",
  })
  async chosen(@Root() decision: Decision, @Ctx() ctx: AppContext): Promise<Answer | null> {
    const answers = await consensusLoaders(ctx).answers.load(decision.runId);
    return answers.find((a) => a.id === decision.answerId) ?? null;
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Answer)
export class AnswerResolver {
  @FieldResolver(() => Agent, { nullable: true, description: 'The voter (null once deleted).' })
  async agent(@Root() answer: Answer, @Ctx() ctx: AppContext): Promise<Agent | null> {
    return ctx.loaders.agent.load(answer.agentId).catch(() => null);
  }
}
