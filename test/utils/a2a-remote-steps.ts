import { expect } from 'vitest';
import { agentExecutor } from '../../src/agents/executor.js';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import type { McpToolPool } from '../../src/mcp-client/pool.js';
import { startScheduler } from './engine.js';
import { untilDone } from './progress.js';
import type { TestServer } from './server.js';

export interface RemoteStepView {
  status: string;
  result: string | null;
  error: string | null;
  runs: { toolCalls: { server: string; tool: string; status: string; error: string | null }[] }[];
}

/**
 * A workflow of one step that requires `capability`, run by a scheduler with the real agent
 * executor (a remote A2A agent with that skill takes it) until the step ends.
 */
export async function runRemoteStep(
  server: TestServer,
  pool: McpToolPool,
  title: string,
  capability: string,
): Promise<RemoteStepView> {
  const plan = await server.gql<{ createTasks: { id: string; key: string }[] }, object>(
    `mutation($title: String!, $cap: String!) { createTasks(inputs: [
      { key: "root", title: "Localise the brief" },
      { key: "step", title: $title, parentKey: "root", requiredCapabilities: [$cap] }
    ]) { id key } }`,
    { title, cap: capability },
  );
  expect(plan.errors).toBeUndefined();
  const ids = Object.fromEntries(plan.data!.createTasks.map((t) => [t.key, t.id]));
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: loadConfig({}).llm,
    logger: server.logger,
    mcp: pool,
  });
  const scheduler = startScheduler(server, agentExecutor(runtime));
  try {
    await server.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, {
      id: ids.root,
    } as never);
    return await untilDone({
      read: async () =>
        (
          await server.gql<{ task: RemoteStepView }, object>(
            `query($id: ID!) { task(id: $id) { status result error runs { toolCalls { server tool status error } } } }`,
            { id: ids.step },
          )
        ).data!.task,
      done: (t) => ['COMPLETED', 'FAILED'].includes(t.status),
      progress: (t) => `${t.status} ${t.runs.length}`,
      stallMs: 60_000,
      what: 'the remote step did not end',
    });
  } finally {
    await scheduler.stop();
  }
}
