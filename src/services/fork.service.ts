import { randomUUID } from 'node:crypto';
import * as repo from '../../graph/fork.repository.js';
import { APPROVAL_NODE, MODEL_NODE, START_NODE, TOOLS_NODE } from '../agents/checkpoint/fork.js';
import type { BacklogLimits } from '../domain/backlog.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { optionalText } from '../domain/validate.js';
import { refuseOverQueuedSteps } from './backlog.js';
import { publishTasks } from './task-events.js';
import type { UnitOfWork } from './unit-of-work.js';

const MAX_MESSAGE_CHARS = 4_000;

/**
 * Forks for people (issue 13): a new attempt of a step from one of its runs' checkpoints, as a
 * task of its own outside the workflow, so a person can ask "what if" and compare the two.
 */
export class ForkService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Creates the fork, READY for the engine. `message`, when given, is what the model reads next
   * (only where the loop's next step is a model call or it had ended). NOT_FOUND for a run or
   * checkpoint that is not the tenant's, or a checkpoint of another run; LIMIT_EXCEEDED when
   * the tenant has TENANT_MAX_QUEUED_STEPS steps queued (the fork is one).
   */
  fork(
    tenantId: string,
    o: { runId: string; checkpointId: string; message?: string | null },
    actor: string,
  ): Promise<Task> {
    const message = optionalText('message', o.message, MAX_MESSAGE_CHARS) ?? null;
    return this.uow.run(async (tx, emit) => {
      const point = await repo.forkPointOf(tx, tenantId, o.runId, o.checkpointId);
      // Run.checkpoints lists the ids a run can be forked at.
      if (!point) throw new NotFoundError('Checkpoint', `${o.checkpointId} of run ${o.runId}`);
      const modelNext = point.next.length === 0 || point.next.every((n) => n === MODEL_NODE);
      if (message && !modelNext)
        throw new BadInputError(
          `a message can be added only where the model runs next, but ${whereToFork(point.next)}`,
          { next: point.next },
        );
      await refuseOverQueuedSteps(tx, tenantId, this.backlog, 'forkRun', 1);
      const fork = await repo.createFork(tx, {
        tenantId,
        id: randomUUID(),
        point,
        runId: o.runId,
        message,
        by: actor,
      });
      await publishTasks(tx, emit, [fork], 'CREATED');
      return fork;
    });
  }
}

/** Why a checkpoint that runs `next` takes no message, and where to fork instead. */
function whereToFork(next: readonly string[]): string {
  if (next.includes(START_NODE))
    return "this checkpoint is the run's start, before its input is read; fork from the checkpoint after it (the model runs next), or without a message";
  // A run held for approval has no checkpoint after its calls' results until they are decided.
  if (next.includes(APPROVAL_NODE))
    return "at this checkpoint the model's tool calls wait for a person's approval; fork from the checkpoint before it (the model answers again, reading your message), or decide the calls (resolveToolCall) and fork from the checkpoint after their results, or fork here without a message";
  const runs = `this checkpoint runs ${next.join(', ')} next`;
  return next.includes(TOOLS_NODE)
    ? `${runs}; fork from the checkpoint after those tool calls, or without a message`
    : `${runs}; fork from a later checkpoint where the model runs next, or without a message`;
}
