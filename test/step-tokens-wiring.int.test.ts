import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { schedulerFromConfig } from '../src/engine/start.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const SubmitForTokens = graphql(`
  mutation SubmitForTokens($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const CosTokens = graphql(`
  subscription CosStepTokens($agentId: ID, $taskId: ID) {
    stepTokens(agentId: $agentId, taskId: $taskId) {
      taskId
      agentId
      purpose
      token
    }
  }
`);

// Issue 10: schedulerFromConfig built the agent runtime without the pub/sub, so stepTokens
// stayed silent in `npm start` and in workers; only tests that wired their own runtime streamed.
describe('step tokens through npm start’s own wiring', { timeout: 90_000 }, () => {
  let server: TestServer;
  let cosId: string;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id role } }`);
    expect(res.errors).toBeUndefined();
    const agents = (res.data as { createAgents: { id: string; role: string }[] }).createAgents;
    cosId = agents.find((a) => a.role === 'CHIEF_OF_STAFF')!.id;
  });
  afterAll(() => server.stop());

  it('streams the Chief of Staff’s tokens on stepTokens from a scheduler built by schedulerFromConfig', async () => {
    // As src/cli/main.ts does it (the offline model, the agents executor), limited to this tenant.
    const config = loadConfig({ ENGINE_POLL_MS: '20', ENGINE_STEP_TIMEOUT_MS: '30000' });
    const tokens = await subscribe(server, CosTokens, { agentId: cosId });
    const scheduler = schedulerFromConfig(config, {
      uow: server.services.uow,
      logger: server.logger,
      pubsub: server.pubsub,
      tenantIds: [server.tenantId],
    });
    const submitted = await server.gql(SubmitForTokens, {
      input: { title: 'Token brief', description: 'Research the market for electric bikes.' },
    });
    expect(submitted.errors).toBeUndefined();
    const rootId = submitted.data!.submitTask.id;
    // By the id submitTask gave, as the README's first task watches: its steps' tokens.
    const workflowTokens = await subscribe(server, CosTokens, { taskId: rootId });
    scheduler.start();
    try {
      const fromStep = (await workflowTokens.waitForNext(60_000)).data!.stepTokens;
      expect(fromStep.token.length).toBeGreaterThan(0);
      expect(fromStep.taskId).not.toBe(rootId);
      // The offline planner answers with a tool call (no text), so the Chief of Staff's first
      // tokens are its synthesis of the plan's reports, in the synthesis step under the root.
      const first = (await tokens.waitForNext(60_000)).data!.stepTokens;
      expect(first).toMatchObject({ agentId: cosId, purpose: 'synthesis' });
      expect(first.token.length).toBeGreaterThan(0);
      const [step] = await server.graph.read((tx) =>
        tx.run<{ parentId: string }>({
          cypher: 'MATCH (:Task {id: $id})-[:SUBTASK_OF]->(p:Task) RETURN p.id AS parentId',
          params: { id: first.taskId },
        }),
      );
      expect(step?.parentId).toBe(rootId);
      const [under] = await server.graph.read((tx) =>
        tx.run<{ parentId: string }>({
          cypher: 'MATCH (:Task {id: $id})-[:SUBTASK_OF]->(p:Task) RETURN p.id AS parentId',
          params: { id: fromStep.taskId },
        }),
      );
      expect(under?.parentId).toBe(rootId);
    } finally {
      await workflowTokens.close();
      await tokens.close();
      await scheduler.stop({ abort: true });
    }
  });
});
