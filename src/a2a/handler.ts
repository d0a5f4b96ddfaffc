import type { CancelTaskRequest, Task } from '@a2a-js/sdk';
import { DefaultRequestHandler, type ServerCallContext } from '@a2a-js/sdk/server';
import { DOCUMENTS, OperationError } from '../mcp/operations.js';
import { agentCard, skillsOf } from './card.js';
import { callerOf } from './caller.js';
import { PlatformExecutor, platformTaskOf } from './executor.js';
import { asRefusal } from './refusal.js';
import { GraphTaskStore } from './store.js';
import type { UnitOfWork } from '../services/unit-of-work.js';

/**
 * The SDK's request handler with the platform's parts: tasks in the graph, the executor that
 * runs them as workflows, the tenant's capabilities as the extended card's skills, and a
 * cancel that cancels the platform's task too (with the caller's key: OPERATOR, as GraphQL).
 */
export class PlatformRequestHandler extends DefaultRequestHandler {
  private readonly tasks: GraphTaskStore;

  constructor(uow: UnitOfWork, baseUrl: string) {
    const tasks = new GraphTaskStore(uow);
    super(
      agentCard(baseUrl),
      tasks,
      new PlatformExecutor(),
      undefined,
      undefined,
      undefined,
      async (context) => {
        const { run, baseUrl: reached } = callerOf(context);
        const { agents } = await run<{ agents: { nodes: { capabilities: { name: string }[] }[] } }>(
          DOCUMENTS.agents,
          { first: 100 },
        ).catch(asRefusal);
        return agentCard(
          reached,
          skillsOf(agents.nodes.flatMap((a) => a.capabilities.map((c) => c.name))),
        );
      },
    );
    this.tasks = tasks;
  }

  override async cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    const task = await this.tasks.load(params.id, context);
    const rootId = platformTaskOf(task);
    if (rootId) {
      try {
        await callerOf(context).run(DOCUMENTS.cancelTask, { id: rootId });
      } catch (err) {
        // Ended meanwhile: the SDK says the task is not cancelable; a refusal is the caller's.
        if (!(err instanceof OperationError) || err.code !== 'BAD_USER_INPUT') asRefusal(err);
      }
    }
    return super.cancelTask(params, context);
  }
}
