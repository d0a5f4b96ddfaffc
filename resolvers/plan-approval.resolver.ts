import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Role } from '../schema/enums.js';
import { PlanEditsInput } from '../schema/plan.input.js';
import { Task } from '../schema/task.type.js';
import type { AppContext } from '../src/server/context.js';

/** approvePlan and rejectPlan: a person's say on a plan before any of its steps runs (issue 13). */
@Resolver(() => Task)
export class PlanApprovalResolver {
  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Approves the plan of a submitted task that waits for approval (planApproval), optionally edited: its steps then run. Refused with CONFLICT when no plan waits, and with BAD_USER_INPUT naming the edit when the edited plan breaks a planning rule (nothing changes then).',
  })
  approvePlan(
    @Arg('taskId', () => ID) taskId: string,
    @Ctx() ctx: AppContext,
    @Arg('edits', () => PlanEditsInput, { nullable: true }) edits?: PlanEditsInput | null,
  ): Promise<Task> {
    return ctx.services.plans.approve(ctx.tenantId, taskId, ctx.actor, edits);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Rejects the plan of a submitted task that waits for approval: its steps are CANCELLED and the task goes back to its Chief of Staff (READY), who plans it again with the reason as feedback; that plan waits for approval again.',
  })
  rejectPlan(
    @Arg('taskId', () => ID) taskId: string,
    @Arg('reason', () => String, {
      description: 'Why, 1 to 10000 characters: the Chief of Staff reads it.',
    })
    reason: string,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    return ctx.services.plans.reject(ctx.tenantId, taskId, ctx.actor, reason);
  }
}
